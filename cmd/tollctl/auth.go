package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
)

func (a *app) authCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "auth", Short: "Export CA certs, sign database certs and rotate CAs"}
	var typ string
	export := &cobra.Command{
		Use:   "export",
		Short: "Print the PEM of every trusted cert of a CA",
		Example: `  tollctl auth export --type=db-client > ca-client.crt
  tollctl auth export --type=host`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.call(func(c *client.Client) error {
				pems, err := c.Export(cmd.Context(), typ)
				if err != nil {
					return err
				}
				return a.print(map[string]any{"type": typ, "pem": pems}, func(w io.Writer) { fmt.Fprint(w, strings.Join(pems, "")) })
			})
		},
	}
	export.Flags().StringVar(&typ, "type", "", "CA: user, host, db or db-client")
	_ = export.MarkFlagRequired("type")

	var (
		req       wire.SignRequest
		hosts     string
		out       string
		overwrite bool
	)
	sign := &cobra.Command{
		Use:   "sign",
		Short: "Make database server certs signed by the db CA and write them to --out",
		Example: `  # CockroachDB: ca.crt, ca-client.crt, node.crt, node.key
  tollctl auth sign --format=cockroachdb --host=roach,node-1,10.0.0.5 --out=certs --ttl=2190h

  # PostgreSQL: server.crt, server.key, server.cas
  tollctl auth sign --format=db --host=pg.example.com --out=pgcerts --ttl=2190h`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out DIR is required")
			}
			req.Hosts = splitList(hosts)
			return a.call(func(c *client.Client) error {
				switch req.Format {
				case "cockroachdb", "db", "tls":
				default:
					return fmt.Errorf("--format %q: use cockroachdb, db or tls", req.Format)
				}
				signed, err := c.Sign(cmd.Context(), req)
				if err != nil {
					return err
				}
				written, err := writeSigned(req.Format, out, signed.Output(), overwrite)
				if err != nil {
					return err
				}
				return a.print(map[string]any{"files": written}, func(w io.Writer) {
					for _, p := range written {
						fmt.Fprintf(w, "Wrote %s\n", p)
					}
				})
			})
		},
	}
	f := sign.Flags()
	f.StringVar(&req.Format, "format", "cockroachdb", "cockroachdb, db or tls")
	f.StringVar(&hosts, "host", "", "comma-separated names and IPs of the database (SANs)")
	f.StringVar(&out, "out", "", "output directory")
	f.DurationVar(&req.TTL, "ttl", 2190*time.Hour, "certificate validity")
	f.BoolVar(&overwrite, "overwrite", false, "replace existing files")
	// sign's --format is the cert format; the global output format stays text.
	sign.PreRunE = func(cmd *cobra.Command, _ []string) error { a.g.format = formatText; return nil }
	cmd.AddCommand(export, sign, a.rotateCmd())
	return cmd
}

// writeSigned writes auth sign's output in the layout of format.
func writeSigned(format, dir string, out pki.SignOutput, overwrite bool) ([]string, error) {
	switch format {
	case "db":
		return pki.WriteDB(dir, out, overwrite)
	case "tls":
		return pki.WriteTLS(dir, "tls", out, overwrite)
	}
	return pki.WriteCockroachDB(dir, out, overwrite)
}
