package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

func readRoleFile(a *app, path string) (schemas.Role, error) {
	var raw []byte
	var err error
	if path == "-" {
		raw, err = io.ReadAll(a.stdin)
	} else {
		raw, err = os.ReadFile(path)
	}
	if err != nil {
		return schemas.Role{}, fmt.Errorf("read role file: %w", err)
	}
	return parseRole(path, raw)
}

// writeYAML writes v in YAML with its JSON field names.
func writeYAML(w io.Writer, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var generic any
	if err := yaml.Unmarshal(raw, &generic); err != nil {
		return err
	}
	enc := yaml.NewEncoder(w)
	enc.SetIndent(2)
	defer enc.Close()
	return enc.Encode(generic)
}

func (a *app) rolesCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "roles", Short: "Manage roles (Teleport-shaped YAML)"}
	cmd.AddCommand(a.rolesCreateCmd(), a.rolesUpdateCmd(), a.rolesLsCmd(), a.rolesGetCmd(), a.rolesRmCmd())
	return cmd
}

// writeRole creates (or, with update, replaces) the role in file, for
// roles create and roles update.
func (a *app) writeRole(cmd *cobra.Command, file string, update bool) error {
	if file == "" {
		return fmt.Errorf("-f FILE is required (a role in YAML: kind: role, metadata.name, spec.allow…)")
	}
	r, err := readRoleFile(a, file)
	if err != nil {
		return err
	}
	return a.call(func(c *client.Client) error {
		var out wire.Role
		verb := "created"
		if update {
			out, err = c.RolesUpdate(cmd.Context(), r)
			verb = "updated"
		} else {
			out, err = c.RolesCreate(cmd.Context(), r)
		}
		if err != nil {
			return err
		}
		return a.print(out, func(w io.Writer) { fmt.Fprintf(w, "Role %s %s.\n", out.Name, verb) })
	})
}

func (a *app) rolesCreateCmd() *cobra.Command {
	var file string
	create := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Create a role from a YAML file",
		Example: `  cat > dev.yaml <<'YAML'
  kind: role
  version: v7
  metadata:
    name: dev
  spec:
    options:
      max_session_ttl: 8h
    allow:
      db_labels:
        env: [dev, staging]
      db_users: ["{{internal.db_users}}"]
      db_names: ["*"]
    deny:
      db_users: [root]
  YAML
  tollctl roles create -f dev.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.writeRole(cmd, file, false) },
	}
	create.Flags().StringVarP(&file, "file", "f", "", "role YAML file (- for stdin)")
	return create
}

func (a *app) rolesUpdateCmd() *cobra.Command {
	var file string
	update := &cobra.Command{
		Use:     "update -f FILE",
		Short:   "Replace a role from a YAML file (a concurrent change makes it fail with a retry message)",
		Example: `  tollctl roles update -f dev.yaml`,
		Args:    cobra.NoArgs,
		RunE:    func(cmd *cobra.Command, _ []string) error { return a.writeRole(cmd, file, true) },
	}
	update.Flags().StringVarP(&file, "file", "f", "", "role YAML file (- for stdin)")
	return update
}

func (a *app) rolesLsCmd() *cobra.Command {
	return &cobra.Command{
		Use: "ls", Short: "List roles", Example: "  tollctl roles ls", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.call(func(c *client.Client) error {
				rs, err := c.RolesList(cmd.Context())
				if err != nil {
					return err
				}
				return a.print(rs, func(w io.Writer) {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "Role\tDB labels\tDB users\tRules\tMax session TTL")
					for _, r := range rs {
						var labels []string
						for k, v := range r.Spec.Allow.DBLabels {
							labels = append(labels, k+"="+strings.Join(v, "|"))
						}
						var rules []string
						for _, rl := range r.Spec.Allow.Rules {
							rules = append(rules, strings.Join(rl.Resources, "|")+":"+strings.Join(rl.Verbs, "|"))
						}
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.Name, strings.Join(labels, ","), strings.Join(r.Spec.Allow.DBUsers, ","),
							strings.Join(rules, ","), r.Spec.Options.MaxSessionTTL)
					}
					tw.Flush()
				})
			})
		},
	}
}

func (a *app) rolesGetCmd() *cobra.Command {
	return &cobra.Command{
		Use: "get NAME", Short: "Show a role as YAML", Example: "  tollctl roles get access > access.yaml", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(func(c *client.Client) error {
				r, err := c.RolesGet(cmd.Context(), args[0])
				if err != nil {
					return err
				}
				if a.g.format == formatText {
					return writeYAML(a.stdout, roleDoc(r.Role))
				}
				return a.print(r, nil)
			})
		},
	}
}

func (a *app) rolesRmCmd() *cobra.Command {
	return &cobra.Command{
		Use: "rm NAME", Short: "Delete a role no user holds", Example: "  tollctl roles rm dev", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(func(c *client.Client) error {
				if err := c.RolesRm(cmd.Context(), args[0]); err != nil {
					return err
				}
				return a.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "Role %s deleted.\n", args[0]) })
			})
		},
	}
}
