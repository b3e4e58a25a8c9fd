package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/schemas"
)

// dbFile is the Teleport-shaped YAML of a dynamic database.
type dbFile struct {
	Kind     string `yaml:"kind"`
	Version  string `yaml:"version"`
	Metadata struct {
		Name        string            `yaml:"name"`
		Description string            `yaml:"description"`
		Labels      map[string]string `yaml:"labels"`
	} `yaml:"metadata"`
	Spec struct {
		Protocol   string `yaml:"protocol"`
		URI        string `yaml:"uri"`
		PublicAddr string `yaml:"public_addr"`
		TLS        struct {
			Mode       string `yaml:"mode"`
			CACert     string `yaml:"ca_cert"`
			ServerName string `yaml:"server_name"`
		} `yaml:"tls"`
	} `yaml:"spec"`
}

func parseDBFile(file string, raw []byte) (schemas.Database, error) {
	var f dbFile
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		if errors.Is(err, io.EOF) {
			return schemas.Database{}, fmt.Errorf("%s: empty file; expected kind: db", file)
		}
		return schemas.Database{}, fmt.Errorf("%s: %w", file, err)
	}
	if f.Kind != "db" && f.Kind != "database" {
		return schemas.Database{}, fmt.Errorf("%s: kind must be db, got %q", file, f.Kind)
	}
	d := schemas.Database{Name: f.Metadata.Name, Description: f.Metadata.Description, Labels: f.Metadata.Labels,
		Protocol: f.Spec.Protocol, URI: f.Spec.URI, PublicAddr: f.Spec.PublicAddr}
	if t := f.Spec.TLS; t.Mode != "" || t.CACert != "" || t.ServerName != "" {
		d.TLS = &schemas.DatabaseTLS{Mode: t.Mode, CACertPEM: t.CACert, ServerName: t.ServerName}
	}
	return d, nil
}

func (a *app) dbCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "Manage databases"}
	var file string
	create := &cobra.Command{
		Use:   "create -f FILE",
		Short: "Register a dynamic database (served by agents whose resource selectors match its labels)",
		Example: `  cat > roach.yaml <<'YAML'
  kind: db
  version: v3
  metadata:
    name: roach
    description: CockroachDB dev
    labels: {env: dev}
  spec:
    protocol: cockroachdb
    uri: roach.example.com:26257
  YAML
  tollctl db create -f roach.yaml`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if file == "" {
				return errors.New("-f FILE is required")
			}
			raw, err := os.ReadFile(file)
			if err != nil {
				return fmt.Errorf("read database file: %w", err)
			}
			d, err := parseDBFile(file, raw)
			if err != nil {
				return err
			}
			return a.call(func(c *client.Client) error {
				out, err := c.DBCreate(cmd.Context(), d)
				if err != nil {
					return err
				}
				return a.print(out, func(w io.Writer) { fmt.Fprintf(w, "Database %s created.\n", out.Name) })
			})
		},
	}
	create.Flags().StringVarP(&file, "file", "f", "", "database YAML file")
	rm := &cobra.Command{
		Use: "rm NAME", Short: "Deregister a database", Example: "  tollctl db rm roach", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return a.call(func(c *client.Client) error {
				if err := c.DBRm(cmd.Context(), args[0]); err != nil {
					return err
				}
				return a.print(map[string]string{"deleted": args[0]}, func(w io.Writer) { fmt.Fprintf(w, "Database %s removed.\n", args[0]) })
			})
		},
	}
	var all bool
	ls := &cobra.Command{
		Use: "ls", Short: "List databases (every one; --all=false: only those you may reach)",
		Example: "  tollctl db ls\n  tollctl db ls --all=false", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.call(func(c *client.Client) error {
				dbs, err := c.DBList(cmd.Context(), all)
				if err != nil {
					return err
				}
				return a.print(dbs, func(w io.Writer) {
					tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
					fmt.Fprintln(tw, "Name\tDescription\tProtocol\tLabels\tAllowed users")
					for _, d := range dbs {
						fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", d.Name, d.Description, d.Protocol, labelString(d.Labels), strings.Join(d.DBUsers, ","))
					}
					tw.Flush()
				})
			})
		},
	}
	ls.Flags().BoolVar(&all, "all", true, "every database (needs a rule allowing list on database)")
	cmd.AddCommand(create, rm, ls)
	return cmd
}

func labelString(m map[string]string) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		parts = append(parts, k+"="+m[k])
	}
	return strings.Join(parts, ",")
}
