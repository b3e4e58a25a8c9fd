package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/agent/localproxy"
)

// lookPath is exec.LookPath; tests may replace it.
var lookPath = exec.LookPath

// tunnelFor serves l on a local proxy on a free loopback port, reaching
// its agent through control's tunnel, and points l there (plain, as toll
// proxy db) until stop.
func (a *app) tunnelFor(ctx context.Context, l *dbLogin) (stop func(), err error) {
	cfg, _, err := localProxyConfig(ctx, l)
	if err != nil {
		return nil, err
	}
	px, err := localproxy.New(cfg)
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the local proxy: %w", err)
	}
	// Not ctx: Ctrl-C is for the client's query, not for this proxy.
	pctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	done := make(chan struct{})
	go func() { defer close(done); _ = px.Serve(pctx, ln) }()
	l.local = ln.Addr().String()
	return func() { cancel(); <-done }, nil
}

// clientCommand returns the database client to run for l: cockroach sql
// when on PATH, else psql; "" when neither is.
func clientCommand(l *dbLogin, extra []string) (path string, args []string) {
	if p, err := lookPath("cockroach"); err == nil {
		return p, append([]string{"sql", "--url", l.url()}, extra...)
	}
	if p, err := lookPath("psql"); err == nil {
		return p, append([]string{l.connString()}, extra...)
	}
	return "", nil
}

func (a *app) dbConnectCmd() *cobra.Command {
	var (
		f                     dbFlags
		requestRoles, because string
	)
	cmd := &cobra.Command{
		Use:   "connect NAME [-- client args]",
		Short: "Connect to a database with cockroach sql or psql (logs in to it when needed)",
		Long: `Connect to a database with cockroach sql when on PATH, else psql: it gets the database
certificate when needed (as toll db login), checks that the agent is reachable and runs the
client with sslmode=verify-full, the certificate and the cluster's CA. Arguments after --
go to the client.

` + rememberedHelp,
		Example: `  toll db connect roach
  toll db connect roach --db-user=alice --db-name=defaultdb
  toll db connect roach -- -c 'select 1'`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, extra := args[0], args[1:]
			if dash := cmd.ArgsLenAtDash(); dash >= 0 && dash != 1 {
				return errors.New("usage: toll db connect NAME [-- client args]")
			}
			if requestRoles != "" {
				if err := a.requestAndWait(cmd.Context(), requestRoles, because); err != nil {
					return err
				}
			}
			l, err := a.ensureLogin(cmd.Context(), name, f)
			if err != nil {
				return err
			}
			if l.tunneled() {
				// The client talks to a local proxy of this process, which
				// reaches the agent through control's tunnel.
				stop, err := a.tunnelFor(cmd.Context(), l)
				if err != nil {
					return err
				}
				defer stop()
			} else if err := checkReachable(cmd.Context(), l); err != nil {
				return err
			}
			bin, cargs := clientCommand(l, extra)
			if bin == "" {
				fmt.Fprintf(a.stderr, "Neither cockroach nor psql is on your PATH (apt-get install -y postgresql-client).\nConnect with any PostgreSQL client using:\n")
				fmt.Fprintf(a.stdout, "%s\n", l.connString())
				return errors.New("no database client found")
			}
			// Not CommandContext: Ctrl-C reaches the client too, which
			// cancels its query; toll must not kill it.
			c := exec.Command(bin, cargs...)
			c.Stdin, c.Stdout, c.Stderr = a.stdin, a.stdout, a.stderr
			c.Env = os.Environ()
			if l.Protocol == protoCRDB {
				// CockroachDB speaks only UTF8; psql with a SQL_ASCII locale
				// would otherwise fail with `unimplemented client encoding`.
				c.Env = append(c.Env, pgClientEnc+"=UTF8")
			}
			if err := c.Run(); err != nil {
				var ee *exec.ExitError
				if errors.As(err, &ee) {
					return fmt.Errorf("%s exited with status %d", bin, ee.ExitCode())
				}
				return fmt.Errorf("run %s: %w", bin, err)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&requestRoles, "request-roles", "", "first request these roles (an access request) and wait for its approval")
	cmd.Flags().StringVar(&because, "reason", "", "why, with --request-roles (for the reviewers)")
	f.add(cmd)
	return cmd
}
