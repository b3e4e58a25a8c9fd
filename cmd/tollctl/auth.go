package main

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control/client/profile"
	"github.com/tollgate-db/tollgate/control/wire"
)

func (a *app) authCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "auth", Short: "Export CA certs and sign database certs"}
	var typ string
	export := &cobra.Command{
		Use:   "export",
		Short: "Print the PEM of every trusted cert of a CA",
		Example: `  tollctl auth export --type=db-client > ca-client.crt
  tollctl auth export --type=host`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			c, _, err := a.client()
			if err != nil {
				return err
			}
			defer c.Close()
			pems, err := c.Export(cmd.Context(), typ)
			if err != nil {
				return err
			}
			return a.print(map[string]any{"type": typ, "pem": pems}, func(w io.Writer) { fmt.Fprint(w, strings.Join(pems, "")) })
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
			c, _, err := a.client()
			if err != nil {
				return err
			}
			defer c.Close()
			if !overwrite {
				for _, name := range signNames(req.Format) {
					if _, err := os.Stat(filepath.Join(out, name)); err == nil {
						return fmt.Errorf("%s exists; pass --overwrite to replace it", filepath.Join(out, name))
					} else if !errors.Is(err, fs.ErrNotExist) {
						return err
					}
				}
			}
			signed, err := c.Sign(cmd.Context(), req)
			if err != nil {
				return err
			}
			if err := os.MkdirAll(out, 0o700); err != nil {
				return fmt.Errorf("create %s: %w", out, err)
			}
			var written []string
			for _, f := range signed.Files {
				p := filepath.Join(out, f.Name)
				if err := profile.WriteFile(p, []byte(f.Data)); err != nil {
					return err
				}
				written = append(written, p)
			}
			return a.print(map[string]any{"files": written}, func(w io.Writer) {
				for _, p := range written {
					fmt.Fprintf(w, "Wrote %s\n", p)
				}
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
	cmd.AddCommand(export, sign)
	return cmd
}

func signNames(format string) []string {
	switch format {
	case "db":
		return []string{"server.cas", "server.crt", "server.key"}
	case "tls":
		return []string{"ca.crt", "ca-client.crt", "tls.crt", "tls.key"}
	}
	return []string{"ca.crt", "ca-client.crt", "node.crt", "node.key"}
}
