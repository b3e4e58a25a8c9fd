package auditview

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// RequestsTable writes access requests as a table, one a line.
func RequestsTable(w io.Writer, rs []wire.AccessRequest) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tUser\tRoles\tState\tReviews\tCreated\tReason")
	for _, r := range rs {
		approve, deny := counts(r)
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d/%d approve, %d/%d deny\t%s\t%s\n", r.ID, r.User, strings.Join(r.Roles, ","),
			requestState(r), approve, r.Approve, deny, r.Deny, r.CreatedAt.UTC().Format(time.RFC3339), r.Reason)
	}
	tw.Flush()
}

// RequestDetail writes one access request and its reviews.
func RequestDetail(w io.Writer, r wire.AccessRequest) {
	fmt.Fprintf(w, "Request:  %s\nUser:     %s\nRoles:    %s\nReason:   %s\nDuration: %s\nState:    %s\nCreated:  %s\n",
		r.ID, r.User, strings.Join(r.Roles, ","), r.Reason, r.Duration, requestState(r), r.CreatedAt.UTC().Format(time.RFC3339))
	approve, deny := counts(r)
	fmt.Fprintf(w, "Needs:    %d approval(s) (has %d), %d denial(s) refuse it (has %d)\n", r.Approve, approve, r.Deny, deny)
	if r.DecidedBy != "" {
		fmt.Fprintf(w, "Decided:  %s by %s\n", r.DecidedAt.UTC().Format(time.RFC3339), r.DecidedBy)
	}
	for _, v := range r.Reviews {
		line := fmt.Sprintf("Review:   %s %s at %s", v.Reviewer, v.Verdict, v.Time.UTC().Format(time.RFC3339))
		if v.Reason != "" {
			line += fmt.Sprintf(" (%q)", v.Reason)
		}
		fmt.Fprintln(w, line)
	}
}

// requestState is the state, with an approved request's end of grant.
func requestState(r wire.AccessRequest) string {
	if r.State == schemas.RequestApproved {
		return "approved until " + r.Expires.UTC().Format(time.RFC3339)
	}
	return r.State
}

func counts(r wire.AccessRequest) (approve, deny int) {
	for _, v := range r.Reviews {
		if v.Verdict == schemas.VerdictApprove {
			approve++
		} else {
			deny++
		}
	}
	return approve, deny
}
