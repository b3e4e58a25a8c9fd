package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control/client"
)

func (a *app) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "Show the cluster name, version and each CA's pin",
		Example: `  tollctl status
  tollctl status --format=json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.call(func(c *client.Client) error {
				st, err := c.Status(cmd.Context())
				if err != nil {
					return err
				}
				return a.print(st, func(w io.Writer) {
					fmt.Fprintf(w, "Cluster: %s\n", st.Cluster)
					fmt.Fprintf(w, "Version: %s\n", st.Version)
					fmt.Fprintf(w, "CA pin %s\n", st.CAPin)
					for _, ca := range st.CAs {
						fmt.Fprintf(w, "CA %-9s %-10s %s (rotation: %s)\n", ca.Type, ca.KeyAlg, ca.Pin, ca.Phase)
					}
					fmt.Fprintf(w, "Users: %d  Roles: %d  Agents: %d  Databases: %d\n", st.Users, st.Roles, st.Agents, st.DBs)
				})
			})
		},
	}
}
