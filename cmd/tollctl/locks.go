package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
)

func (a *app) lockCmd() *cobra.Command {
	var (
		l       wire.Lock
		expires string
	)
	cmd := &cobra.Command{
		Use:   "lock",
		Short: "Block a user, role, database or agent (ends matching live sessions)",
		Example: `  tollctl lock --user=alice --message="investigating" --ttl=1h
  tollctl lock --db=roach --expires=2030-01-01T00:00:00Z`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if expires != "" {
				t, err := time.Parse(time.RFC3339, expires)
				if err != nil {
					return fmt.Errorf("--expires %q: use RFC 3339, e.g. 2030-01-01T00:00:00Z", expires)
				}
				l.Expires = t
			}
			return a.call(func(c *client.Client) error {
				out, err := c.LocksAdd(cmd.Context(), l)
				if err != nil {
					return err
				}
				return a.print(out, func(w io.Writer) { fmt.Fprintf(w, "Lock %s created.\n", out.ID) })
			})
		},
	}
	f := cmd.Flags()
	f.StringVar(&l.Target.User, "user", "", "user to lock")
	f.StringVar(&l.Target.Role, "role", "", "role to lock")
	f.StringVar(&l.Target.Database, "db", "", "database to lock")
	f.StringVar(&l.Target.Agent, "agent", "", "agent to lock")
	f.StringVar(&l.Target.Session, "session", "", "one database session to end (its id, from tollctl audit search); alone")
	f.StringVar(&l.Message, "message", "", "message shown to the locked out")
	f.DurationVar(&l.TTL, "ttl", 0, "lock duration (default: until unlocked)")
	f.StringVar(&expires, "expires", "", "lock expiry (RFC 3339)")
	return cmd
}

func (a *app) locksCmd() *cobra.Command {
	list := func(cmd *cobra.Command, _ []string) error {
		return a.call(func(c *client.Client) error {
			ls, err := c.LocksList(cmd.Context())
			if err != nil {
				return err
			}
			return a.print(ls, func(w io.Writer) {
				tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "ID\tTarget\tMessage\tExpires")
				for _, l := range ls {
					t := l.Target
					target := ""
					for _, kv := range [][2]string{{"user", t.User}, {"role", t.Role}, {"db", t.Database}, {"agent", t.Agent}} {
						if kv[1] != "" {
							target += kv[0] + "=" + kv[1] + " "
						}
					}
					exp := "never"
					if !l.Expires.IsZero() {
						exp = l.Expires.Format(time.RFC3339)
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", l.ID, target, l.Message, exp)
				}
				tw.Flush()
			})
		})
	}
	cmd := &cobra.Command{Use: "locks", Short: "List active locks (same as locks ls)", Example: "  tollctl locks", Args: cobra.NoArgs, RunE: list}
	cmd.AddCommand(&cobra.Command{Use: "ls", Short: "List active locks", Example: "  tollctl locks ls", Args: cobra.NoArgs, RunE: list})
	return cmd
}

func (a *app) unlockCmd() *cobra.Command {
	return &cobra.Command{
		Use: "unlock ID", Short: "Remove a lock", Example: "  tollctl unlock 01J9Z…", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(func(c *client.Client) error {
				if err := c.LocksRm(cmd.Context(), args[0]); err != nil {
					return err
				}
				return a.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "Lock %s removed.\n", args[0]) })
			})
		},
	}
}
