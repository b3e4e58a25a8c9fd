package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/internal/datadir"
	"github.com/tollgate-db/tollgate/internal/profile"
)

// Output formats.
const (
	formatText = "text"
	formatJSON = "json"
	formatYAML = "yaml"
)

type globals struct {
	dataDir string
	proxy   string
	format  string
}

type app struct {
	g      globals
	stdin  io.Reader
	stdout io.Writer
	// stderr takes warnings and progress, so that stdout stays the answer
	// (JSON or YAML with --format).
	stderr io.Writer
}

func newRootCommand(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:   "tollctl",
		Short: "Administer a Tollgate cluster",
		Long: `tollctl administers a Tollgate cluster through control's HTTPS API.

Identity: with --data-dir (or TOLLGATE_DATA_DIR) it uses the local admin identity that
'tollgate start' writes into the data dir; otherwise the identity of 'toll login'
(TOLLGATE_HOME or ~/.tollgate); otherwise ./tollgate-data. --proxy overrides control's address; it, like the identity
of 'toll login', may list several controls of the cluster (--proxy=HOST:PORT,HOST:PORT),
tried in order when one cannot be reached.`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if a.g.proxy != "" {
				addrs, err := client.ParseProxies(a.g.proxy)
				if err != nil {
					return fmt.Errorf("--proxy: %w", err)
				}
				a.g.proxy = strings.Join(addrs, ",")
			}
			switch a.g.format {
			case formatText, formatJSON, formatYAML:
				return nil
			}
			return fmt.Errorf("--format %q: use text, json or yaml", a.g.format)
		},
	}
	pf := root.PersistentFlags()
	pf.StringVar(&a.g.dataDir, "data-dir", "", "data dir of the local control (uses its admin identity; default $TOLLGATE_DATA_DIR)")
	pf.StringVar(&a.g.proxy, "proxy", "", "control's address HOST:PORT, or a comma-separated list of the cluster's controls tried in order (default: the identity's)")
	pf.StringVar(&a.g.format, "format", formatText, "output format: text, json or yaml")
	root.AddCommand(a.statusCmd(), a.tokensCmd(), a.usersCmd(), a.rolesCmd(), a.lockCmd(), a.locksCmd(), a.unlockCmd(), a.agentsCmd(), a.requestsCmd(), a.ssoCmd(), a.policyCmd(),
		a.authCmd(), a.dbCmd(), a.eventsCmd(), a.auditCmd(), a.accessCmd(), a.exportCmd())
	return root
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := newRootCommand(a)
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(stderr, "error:", err)
		return 1
	}
	return 0
}

// identity finds the profile to use.
func (a *app) identity() (*profile.Profile, error) {
	dir := a.g.dataDir
	if dir == "" {
		dir = os.Getenv(datadir.Env)
	}
	if dir != "" {
		p, err := profile.Load(control.AdminDir(dir))
		if err != nil {
			return nil, fmt.Errorf("local admin identity: %w (is 'tollgate start' running with --data-dir %s?)", err, dir)
		}
		return p, nil
	}
	if home, err := profile.Home(); err == nil {
		if p, err := profile.Load(home); err == nil {
			return p, nil
		} else if !errors.Is(err, profile.ErrNotFound) {
			return nil, err
		}
	}
	p, err := profile.Load(control.AdminDir(datadir.Default))
	if err != nil {
		return nil, errors.New("no identity: log in with 'toll login --proxy=HOST:PORT --user=NAME', or run on the control host with --data-dir")
	}
	return p, nil
}

func (a *app) client() (*client.Client, *profile.Profile, error) {
	p, err := a.identity()
	if err != nil {
		return nil, nil, err
	}
	c, err := client.FromProfile(p, a.g.proxy)
	if err != nil {
		return nil, nil, err
	}
	return c, p, nil
}

// print writes v as JSON or YAML, or calls text.
func (a *app) print(v any, text func(w io.Writer)) error {
	switch a.g.format {
	case formatJSON:
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(v)
	case formatYAML:
		// Through JSON so field names match the JSON form.
		raw, err := json.Marshal(v)
		if err != nil {
			return err
		}
		var generic any
		if err := yaml.Unmarshal(raw, &generic); err != nil {
			return err
		}
		enc := yaml.NewEncoder(a.stdout)
		enc.SetIndent(2)
		defer enc.Close()
		return enc.Encode(generic)
	}
	text(a.stdout)
	return nil
}

// warn writes warnings to stderr, one a line.
func (a *app) warn(warnings []string) {
	for _, w := range warnings {
		fmt.Fprintln(a.stderr, "warning:", w)
	}
}

// call opens a client on the caller's identity, runs fn with it and closes
// it.
func (a *app) call(fn func(c *client.Client) error) error {
	c, _, err := a.client()
	if err != nil {
		return err
	}
	defer c.Close()
	return fn(c)
}
