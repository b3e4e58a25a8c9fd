package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/auditview"
	"github.com/tollgate-db/tollgate/schemas"
)

func (a *app) requestsCmd() *cobra.Command {
	var state string
	list := func(cmd *cobra.Command, _ []string) error {
		return a.call(func(c *client.Client) error {
			rs, err := c.RequestsList(cmd.Context(), state)
			if err != nil {
				return err
			}
			return a.print(rs, func(w io.Writer) { auditview.RequestsTable(w, rs) })
		})
	}
	cmd := &cobra.Command{
		Use:   "requests",
		Short: "Review access requests (same as requests ls)",
		Long: `Review access requests: users ask for roles with toll request create; a reviewer (a role with
allow.review_requests naming the roles asked for; editor reviews any) approves or denies.
A request needs its approvals (allow.request.thresholds of the requester's roles, default one)
and one denial refuses it; nobody reviews their own. An approved request grants its roles
until it expires: the user's next connection has them, and sessions opened through the grant
end when it does. Every step is a control event (tollctl events ls shows them).`,
		Example: `  tollctl requests ls --state=pending
  tollctl requests approve 01JQ… --reason="incident 42, on call"`,
		Args: cobra.NoArgs, RunE: list,
	}
	cmd.Flags().StringVar(&state, "state", "", "only requests in this state: pending, approved, denied or dropped")
	ls := &cobra.Command{Use: "ls", Short: "List access requests", Example: "  tollctl requests ls --state=pending", Args: cobra.NoArgs, RunE: list}
	ls.Flags().StringVar(&state, "state", "", "only requests in this state: pending, approved, denied or dropped")
	cmd.AddCommand(ls, a.requestShowCmd(), a.requestReviewCmd(schemas.VerdictApprove), a.requestReviewCmd(schemas.VerdictDeny), a.requestDropCmd())
	return cmd
}

func (a *app) requestShowCmd() *cobra.Command {
	return &cobra.Command{
		Use: "show ID", Short: "Show an access request and its reviews", Example: "  tollctl requests show 01JQ…", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(func(c *client.Client) error {
				r, err := c.RequestsGet(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.print(r, func(w io.Writer) { auditview.RequestDetail(w, r) })
			})
		},
	}
}

func (a *app) requestReviewCmd(verdict string) *cobra.Command {
	var reason string
	cmd := &cobra.Command{
		Use: verdict + " ID", Short: map[string]string{schemas.VerdictApprove: "Approve an access request", schemas.VerdictDeny: "Deny an access request"}[verdict],
		Example: "  tollctl requests " + verdict + " 01JQ… --reason=\"…\"", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(func(c *client.Client) error {
				r, err := c.RequestsReview(cmd.Context(), args[0], wire.ReviewVerdict{Verdict: verdict, Reason: reason})
				if err != nil {
					return err
				}
				return a.print(r, func(w io.Writer) {
					fmt.Fprintf(w, "Reviewed access request %s (%s): it is %s.\n", r.ID, verdict, r.State)
					if r.State == schemas.RequestApproved {
						fmt.Fprintf(w, "%s holds %v until %s.\n", r.User, r.Roles, r.Expires.Local().Format("2006-01-02T15:04:05Z07:00"))
					}
				})
			})
		},
	}
	cmd.Flags().StringVar(&reason, "reason", "", "why (recorded in the review's event)")
	return cmd
}

func (a *app) requestDropCmd() *cobra.Command {
	return &cobra.Command{
		Use: "drop ID", Short: "Withdraw an access request (an approved one's grant ends, and its sessions)",
		Example: "  tollctl requests drop 01JQ…", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(func(c *client.Client) error {
				if err := c.RequestsDrop(cmd.Context(), args[0]); err != nil {
					return err
				}
				return a.print(map[string]string{"dropped": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "Access request %s dropped.\n", args[0]) })
			})
		},
	}
}
