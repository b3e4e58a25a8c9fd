package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func traits(dbUsers, dbNames string) map[string][]string {
	t := map[string][]string{}
	if v := splitList(dbUsers); len(v) > 0 {
		t["db_users"] = v
	}
	if v := splitList(dbNames); len(v) > 0 {
		t["db_names"] = v
	}
	if len(t) == 0 {
		return nil
	}
	return t
}

func (a *app) printInvite(inv wire.Invite, proxy, what string) error {
	return a.print(inv, func(w io.Writer) {
		fmt.Fprintf(w, "User %s %s. Share this command with them; it is valid for 1h (until %s):\n\n", inv.User, what, inv.Expires.Format(time.RFC3339))
		fmt.Fprintf(w, "  toll signup --proxy=%s --invite=%s\n", proxy, inv.Invite)
	})
}

func (a *app) usersCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "users", Short: "Manage users"}
	cmd.AddCommand(a.usersAddCmd(), a.usersLsCmd(), a.usersGetCmd(), a.usersUpdateCmd(), a.usersRmCmd(), a.usersResetCmd(), a.usersResetMFACmd())
	return cmd
}

func (a *app) usersAddCmd() *cobra.Command {
	var roles, dbUsers, dbNames string
	add := &cobra.Command{
		Use:   "add NAME",
		Short: "Create a user and print a one-time signup command (valid 1h)",
		Long: `Create a user with roles and traits and print the one-time signup command to share.

The access role allows every database as the db users of --db-users and the db names of
--db-names (the user's db_users and db_names traits): without --db-users such a user can
reach no database, and users add warns so.`,
		Example: `  tollctl users add --roles=access --db-users="*" --db-names="*" alice
  tollctl users add --roles=access,auditor --db-users=app bob`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.client()
			if err != nil {
				return err
			}
			defer c.Close()
			inv, err := c.UsersAdd(cmd.Context(), schemas.User{Name: args[0], Roles: splitList(roles), Traits: traits(dbUsers, dbNames)})
			if err != nil {
				return err
			}
			a.warn(inv.Warnings)
			return a.printInvite(inv, a.proxyOf(p.Proxy), "has been created")
		},
	}
	add.Flags().StringVar(&roles, "roles", "", "comma-separated roles (e.g. access)")
	add.Flags().StringVar(&dbUsers, "db-users", "", "comma-separated database users the user may use")
	add.Flags().StringVar(&dbNames, "db-names", "", "comma-separated database names the user may use")
	return add
}

func (a *app) usersLsCmd() *cobra.Command {
	return &cobra.Command{
		Use: "ls", Short: "List users", Example: "  tollctl users ls", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.call(func(c *client.Client) error {
				us, err := c.UsersList(cmd.Context())
				if err != nil {
					return err
				}
				return a.print(us, func(w io.Writer) {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "User\tRoles\tDB users\tDB names\tPassword")
					for _, u := range us {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%v\n", u.Name, strings.Join(u.Roles, ","), strings.Join(u.Traits["db_users"], ","),
							strings.Join(u.Traits["db_names"], ","), u.PasswordSet)
					}
					tw.Flush()
				})
			})
		},
	}
}

func (a *app) usersGetCmd() *cobra.Command {
	return &cobra.Command{
		Use: "get NAME", Short: "Show a user, with a login lockout after failed passwords",
		Long: `Show a user: roles, traits, whether a password is set, and whether password login is
locked after too many failed attempts in a row (control keeps that count in memory; it
ends by itself, and tollctl users reset ends it at once).`,
		Example: "  tollctl users get alice --format=yaml", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(func(c *client.Client) error {
				u, err := c.UsersGet(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				return a.print(u, func(w io.Writer) {
					fmt.Fprintf(w, "User: %s\nRoles: %s\nDB users: %s\nDB names: %s\nPassword set: %v\nLogin lockout: %s\n", u.Name, strings.Join(u.Roles, ","),
						strings.Join(u.Traits["db_users"], ","), strings.Join(u.Traits["db_names"], ","), u.PasswordSet, lockoutText(u))
				})
			})
		},
	}
}

func (a *app) usersUpdateCmd() *cobra.Command {
	var roles, dbUsers, dbNames string
	update := &cobra.Command{
		Use:     "update NAME",
		Short:   "Change a user's roles or database users/names (omitted flags keep their value)",
		Example: `  tollctl users update alice --roles=access,auditor`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(func(c *client.Client) error {
				u := schemas.User{Name: args[0]}
				if cmd.Flags().Changed("roles") {
					u.Roles = splitList(roles)
				}
				if cmd.Flags().Changed("db-users") || cmd.Flags().Changed("db-names") {
					old, err := c.UsersGet(cmd.Context(), args[0])
					if err != nil {
						return err
					}
					u.Traits = map[string][]string{}
					for k, v := range old.Traits {
						u.Traits[k] = v
					}
					if cmd.Flags().Changed("db-users") {
						u.Traits["db_users"] = splitList(dbUsers)
					}
					if cmd.Flags().Changed("db-names") {
						u.Traits["db_names"] = splitList(dbNames)
					}
				}
				out, err := c.UsersUpdate(cmd.Context(), u)
				if err != nil {
					return err
				}
				a.warn(out.Warnings)
				return a.print(out, func(w io.Writer) {
					fmt.Fprintf(w, "User %s updated (roles %s).\n", out.Name, strings.Join(out.Roles, ","))
				})
			})
		},
	}
	update.Flags().StringVar(&roles, "roles", "", "comma-separated roles")
	update.Flags().StringVar(&dbUsers, "db-users", "", "comma-separated database users")
	update.Flags().StringVar(&dbNames, "db-names", "", "comma-separated database names")
	return update
}

func (a *app) usersRmCmd() *cobra.Command {
	return &cobra.Command{
		Use: "rm NAME", Short: "Delete a user", Example: "  tollctl users rm alice", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(func(c *client.Client) error {
				if err := c.UsersRm(cmd.Context(), args[0]); err != nil {
					return err
				}
				return a.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "User %s deleted.\n", args[0]) })
			})
		},
	}
}

func (a *app) usersResetMFACmd() *cobra.Command {
	return &cobra.Command{
		Use:   "reset-mfa NAME",
		Short: "Remove a user's second factor (a lost device); they enroll a new one with toll mfa add",
		Long: `Remove a user's second factor, for a lost or replaced device: their next toll login needs the
password only, and a role with options.require_mfa: login reaches nothing until they enroll a new
one with toll mfa add. Recorded as user.mfa_removed by you; needs a rule allowing update on user.`,
		Example: "  tollctl users reset-mfa alice", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, _, err := a.client()
			if err != nil {
				return err
			}
			defer c.Close()
			if err := c.MFARemove(cmd.Context(), wire.MFARemove{User: args[0]}); err != nil {
				return err
			}
			return a.print(map[string]string{"mfa_removed": args[0]}, func(w io.Writer) {
				fmt.Fprintf(w, "Second factor of %s removed: they enroll a new one with toll mfa add.\n", args[0])
			})
		},
	}
}

func (a *app) usersResetCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "reset NAME",
		Short: "Issue a new one-time invite to set the password, and clear a login lockout",
		Long: `Issue a new one-time invite (valid 1h) with which the user sets a new password; it
replaces any earlier invite. It also clears a login lockout after failed passwords at once
(the current password works again until the user signs up with the invite).`,
		Example: "  tollctl users reset alice", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			c, p, err := a.client()
			if err != nil {
				return err
			}
			defer c.Close()
			inv, err := c.UsersReset(cmd.Context(), args[0])
			if err != nil {
				return err
			}
			if err := a.printInvite(inv, a.proxyOf(p.Proxy), "may set a new password"); err != nil || a.g.format != formatText {
				return err
			}
			if !inv.LockoutCleared.IsZero() {
				fmt.Fprintf(a.stdout, "\nIts login lockout (until %s) is cleared: password login works again now.\n",
					inv.LockoutCleared.Format(time.RFC3339))
			}
			return nil
		},
	}
}

// lockoutText says whether password login is locked for u.
func lockoutText(u wire.User) string {
	switch {
	case !u.LockedUntil.IsZero():
		return fmt.Sprintf("locked until %s after repeated failed passwords (tollctl users reset %s clears it)",
			u.LockedUntil.Format(time.RFC3339), u.Name)
	case u.FailedLogins > 0:
		return fmt.Sprintf("none (%d failed passwords in a row; %d lock password login for %s)", u.FailedLogins,
			control.MaxFailures, control.LockoutFor)
	}
	return "none"
}

func (a *app) proxyOf(p string) string {
	if a.g.proxy != "" {
		return a.g.proxy
	}
	return p
}
