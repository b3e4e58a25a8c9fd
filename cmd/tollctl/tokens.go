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

func (a *app) tokensCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "tokens", Short: "Manage join tokens for agents"}
	var req wire.TokenAdd
	add := &cobra.Command{
		Use:   "add",
		Short: "Create a join token (single-use, 30m by default)",
		Example: `  tollctl tokens add --type=db --format=text
  tollctl tokens add --type=db --ttl=2h --reusable`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, p, err := a.client()
			if err != nil {
				return err
			}
			defer c.Close()
			t, err := c.TokensAdd(cmd.Context(), req)
			if err != nil {
				return err
			}
			_ = p
			return a.print(t, func(w io.Writer) { fmt.Fprintln(w, t.Value) })
		},
	}
	add.Flags().StringVar(&req.Type, "type", "db", "token type (db)")
	add.Flags().DurationVar(&req.TTL, "ttl", 30*time.Minute, "validity")
	add.Flags().BoolVar(&req.Reusable, "reusable", false, "allow more than one join")
	ls := &cobra.Command{
		Use: "ls", Short: "List join tokens (hashes only)", Example: "  tollctl tokens ls", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.call(func(c *client.Client) error {
				ts, err := c.TokensList(cmd.Context())
				if err != nil {
					return err
				}
				return a.print(ts, func(w io.Writer) {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "Hash\tType\tExpires\tReusable\tUsed")
					for _, t := range ts {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%v\t%v\n", t.Hash[:16], t.Type, t.Expires.Format(time.RFC3339), t.Reusable, t.Consumed)
					}
					tw.Flush()
				})
			})
		},
	}
	rm := &cobra.Command{
		Use: "rm TOKEN|HASH", Short: "Delete a join token", Example: "  tollctl tokens rm 3f2a9c1e", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(func(c *client.Client) error {
				if err := c.TokensRm(cmd.Context(), args[0]); err != nil {
					return err
				}
				return a.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintln(w, "Token deleted.") })
			})
		},
	}
	cmd.AddCommand(add, ls, rm)
	return cmd
}
