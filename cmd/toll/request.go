package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/auditview"
	"github.com/tollgate-db/tollgate/schemas"
)

// requestPoll is how often toll request create asks whether its request
// was decided.
const requestPoll = time.Second

func (a *app) requestCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "request",
		Short: "Ask for roles for a while (just-in-time access), and follow your requests",
		Long: `Ask for roles you do not hold, for a while: a reviewer approves (tollctl requests approve) and
your next connection has them, without a new login; sessions opened through the grant end when
it expires or is dropped. Which roles you may ask for, for how long, and how many approvals it
takes come from your roles (allow.request); the built-in requester role may ask for any.`,
		Example: `  toll request create --roles=dba --reason="incident 42" --duration=1h
  toll request ls
  toll request drop 01JQ…`,
	}
	cmd.AddCommand(a.requestCreateCmd(), a.requestLsCmd(), a.requestShowCmd(), a.requestDropCmd())
	return cmd
}

func (a *app) requestCreateCmd() *cobra.Command {
	var (
		roles, reason string
		d             time.Duration
		nowait        bool
	)
	cmd := &cobra.Command{
		Use:   "create",
		Short: "Request roles; waits for the decision unless --nowait",
		Example: `  toll request create --roles=dba --reason="incident 42"
  toll request create --roles=dba,ops --duration=30m --nowait`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if strings.TrimSpace(roles) == "" {
				return errors.New("--roles is required: the roles to ask for, e.g. --roles=dba")
			}
			_, c, err := a.session()
			if err != nil {
				return err
			}
			defer c.Close()
			r, err := c.RequestsCreate(cmd.Context(), wire.AccessRequestCreate{Roles: strings.Split(roles, ","), Reason: reason, Duration: d})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Access request %s for %s (%s) created: it needs %d approval(s).\n", r.ID, strings.Join(r.Roles, ","), r.Duration, r.Approve)
			if nowait {
				fmt.Fprintf(a.stdout, "Follow it with: toll request show %s\n", r.ID)
				return nil
			}
			fmt.Fprintf(a.stderr, "Waiting for a reviewer (tollctl requests approve %s); Ctrl-C stops waiting, not the request.\n", r.ID)
			r, err = waitDecided(cmd.Context(), c, r.ID)
			if err != nil {
				return err
			}
			return a.decided(r)
		},
	}
	f := cmd.Flags()
	f.StringVar(&roles, "roles", "", "roles to request, comma-separated (required)")
	f.StringVar(&reason, "reason", "", "why, for the reviewers (recorded)")
	f.DurationVar(&d, "duration", 0, "how long the grant lasts once approved (default: 1h, or less if your roles allow less)")
	f.BoolVar(&nowait, "nowait", false, "print the request's id and return without waiting for the decision")
	return cmd
}

// requestAndWait creates an access request for roles and waits for it to
// be approved (toll db connect --request-roles).
func (a *app) requestAndWait(ctx context.Context, roles, reason string) error {
	_, c, err := a.session()
	if err != nil {
		return err
	}
	defer c.Close()
	r, err := c.RequestsCreate(ctx, wire.AccessRequestCreate{Roles: strings.Split(roles, ","), Reason: reason})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stderr, "Access request %s for %s created; waiting for a reviewer (tollctl requests approve %s).\n", r.ID, strings.Join(r.Roles, ","), r.ID)
	if r, err = waitDecided(ctx, c, r.ID); err != nil {
		return err
	}
	if r.State != schemas.RequestApproved {
		return a.decided(r)
	}
	fmt.Fprintf(a.stderr, "Approved by %s until %s.\n", r.DecidedBy, r.Expires.Local().Format(time.RFC3339))
	return nil
}

// waitDecided polls request id until it is no longer pending.
func waitDecided(ctx context.Context, c *client.Client, id string) (wire.AccessRequest, error) {
	t := time.NewTicker(requestPoll)
	defer t.Stop()
	for {
		r, err := c.RequestsGet(ctx, id)
		if err != nil {
			return r, err
		}
		if r.State != schemas.RequestPending {
			return r, nil
		}
		select {
		case <-ctx.Done():
			return r, fmt.Errorf("stopped waiting; request %s is still pending (toll request show %s): %w", id, id, ctx.Err())
		case <-t.C:
		}
	}
}

// decided tells the user how request r ended.
func (a *app) decided(r wire.AccessRequest) error {
	switch r.State {
	case schemas.RequestApproved:
		fmt.Fprintf(a.stdout, "Approved by %s: you hold %s until %s. Connect as usual (toll db connect NAME).\n",
			r.DecidedBy, strings.Join(r.Roles, ","), r.Expires.Local().Format(time.RFC3339))
		return nil
	case schemas.RequestDenied:
		return fmt.Errorf("access request %s was denied by %s", r.ID, r.DecidedBy)
	}
	return fmt.Errorf("access request %s is %s", r.ID, r.State)
}

func (a *app) requestLsCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use: "ls", Short: "List your access requests", Example: "  toll request ls", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, c, err := a.session()
			if err != nil {
				return err
			}
			defer c.Close()
			rs, err := c.RequestsList(cmd.Context(), "")
			if err != nil {
				return err
			}
			if format == "json" {
				return json.NewEncoder(a.stdout).Encode(rs)
			}
			auditview.RequestsTable(a.stdout, rs)
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text or json")
	return cmd
}

func (a *app) requestShowCmd() *cobra.Command {
	return &cobra.Command{
		Use: "show ID", Short: "Show an access request and its reviews", Example: "  toll request show 01JQ…", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, err := a.session()
			if err != nil {
				return err
			}
			defer c.Close()
			r, err := c.RequestsGet(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			auditview.RequestDetail(a.stdout, r)
			return nil
		},
	}
}

func (a *app) requestDropCmd() *cobra.Command {
	return &cobra.Command{
		Use: "drop ID", Short: "Withdraw your access request (an approved one's grant ends)", Example: "  toll request drop 01JQ…",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			_, c, err := a.session()
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.RequestsDrop(cmd.Context(), args[0]); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Access request %s dropped.\n", args[0])
			return nil
		},
	}
}
