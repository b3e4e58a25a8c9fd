package auditview

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/tollgate-db/tollgate/auditquery"
)

// RenderAccess prints what a user could reach at a moment.
func RenderAccess(w io.Writer, r *auditquery.AccessResult) error {
	if !r.Exists {
		_, err := fmt.Fprintf(w, "User %s did not exist at %s.\n", r.User, r.At.UTC().Format(time.RFC3339))
		return err
	}
	fmt.Fprintf(w, "User %s at %s (control seq %d), roles: %s\n", r.User, r.At.UTC().Format(time.RFC3339), r.LastSeq,
		strings.Join(r.Roles, ", "))
	granted := make([]string, 0, len(r.Grants))
	for role := range r.Grants {
		granted = append(granted, role)
	}
	sort.Strings(granted)
	for _, role := range granted {
		g := r.Grants[role]
		fmt.Fprintf(w, "Role %s granted by access request %s until %s (tollctl requests show %s)\n", role, g.Request,
			g.Expires.UTC().Format(time.RFC3339), g.Request)
	}
	if len(r.Databases) == 0 {
		_, err := fmt.Fprintln(w, "No database was reachable.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DATABASE\tPROTOCOL\tLABELS\tDB USERS\tDB NAMES\tGRANTED BY")
	for _, a := range r.Databases {
		labels := make([]string, 0, len(a.Database.Labels))
		for k, v := range a.Database.Labels {
			labels = append(labels, k+"="+v)
		}
		sort.Strings(labels)
		names := "(not enforced)"
		if a.NamesEnforced {
			names = strings.Join(a.DBNames, ",")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", a.Database.Name, a.Database.Protocol, cell(strings.Join(labels, ",")),
			cell(strings.Join(a.DBUsers, ",")), cell(names), strings.Join(a.Roles, ","))
	}
	return tw.Flush()
}
