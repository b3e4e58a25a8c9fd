package main

import (
	"errors"
	"fmt"
	"net"
	"strconv"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/agent/localproxy"
)

// proxyCmd is `toll proxy`: local proxies for clients without certs.
func (a *app) proxyCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "proxy", Short: "Run local proxies for clients that cannot present Tollgate certs"}
	cmd.AddCommand(a.proxyDBCmd())
	return cmd
}

func (a *app) proxyDBCmd() *cobra.Command {
	var (
		f      dbFlags
		port   int
		listen string
	)
	cmd := &cobra.Command{
		Use:   "db NAME",
		Short: "Serve a database as plain PostgreSQL on loopback (for GUIs, ORMs, pgbench)",
		Long: `Listen on 127.0.0.1 (--port, default a free port) for plain PostgreSQL clients and relay
each connection to the database's agent over TLS with your database certificate. Any
number of clients may connect at once; Ctrl-C in psql works through it. Stop with Ctrl-C.

` + rememberedHelp,
		Example: `  toll proxy db roach --port 26257
  psql "host=127.0.0.1 port=26257 user=alice dbname=defaultdb sslmode=disable"`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := a.ensureLogin(cmd.Context(), args[0], f)
			if err != nil {
				return err
			}
			cfg, via, err := localProxyConfig(cmd.Context(), l)
			if err != nil {
				return err
			}
			addr := listen
			if addr == "" {
				addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
			} else if port != 0 {
				return errors.New("use either --listen or --port")
			}
			px, err := localproxy.New(cfg)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", addr, err)
			}
			lh, lp, _ := net.SplitHostPort(ln.Addr().String())
			enc := ""
			if l.Protocol == protoCRDB {
				enc = " (and " + pgClientEnc + "=UTF8)"
			}
			fmt.Fprintf(a.stdout, "Started local proxy for %s on %s (%s, db user %s, valid until %s).\n"+
				"Use this connection string%s:\n  host=%s port=%s user=%s dbname=%s sslmode=disable\n  postgresql://%s@%s/%s?sslmode=disable\nCtrl-C stops it.\n",
				l.Name, ln.Addr(), via, l.DBUser, l.NotAfter.Local().Format("2006-01-02 15:04:05"), enc,
				lh, lp, l.DBUser, l.DBName, l.DBUser, ln.Addr(), l.DBName)
			return px.Serve(cmd.Context(), ln)
		},
	}
	f.add(cmd)
	cmd.Flags().IntVar(&port, "port", 0, "local port on 127.0.0.1 (default: a free one)")
	cmd.Flags().StringVar(&listen, "listen", "", "listen on this HOST:PORT instead (non-loopback only when you mean it: no TLS on this side)")
	return cmd
}
