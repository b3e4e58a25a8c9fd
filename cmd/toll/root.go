package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/client/profile"
	"github.com/tollgate-db/tollgate/control/wire"
)

type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr}
	root := &cobra.Command{
		Use:           "toll",
		Short:         "Tollgate user CLI: sign up, log in, reach databases",
		Long:          "toll keeps your identity (key and short-lived cert) in $TOLLGATE_HOME or ~/.tollgate, files 0600.",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(a.signupCmd(), a.loginCmd(), a.logoutCmd(), a.statusCmd())
	root.AddCommand(a.dbCmd())
	root.AddCommand(a.proxyCmd())
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

func home() (string, error) { return profile.Home() }

// password reads a password from stdin (--password-stdin) or the terminal.
func (a *app) password(fromStdin bool, prompt string) (string, error) {
	if fromStdin {
		line, err := bufio.NewReader(a.stdin).ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return "", fmt.Errorf("read password from stdin: %w", err)
		}
		return strings.TrimRight(line, "\r\n"), nil
	}
	f, ok := a.stdin.(*os.File)
	if !ok || !term.IsTerminal(int(f.Fd())) {
		return "", errors.New("no terminal to prompt for the password; pass --password-stdin")
	}
	fmt.Fprint(a.stderr, prompt)
	b, err := term.ReadPassword(int(f.Fd()))
	fmt.Fprintln(a.stderr)
	if err != nil {
		return "", fmt.Errorf("read password: %w", err)
	}
	return string(b), nil
}

// contact returns the host CAs to trust for proxy: the saved profile's
// when it is for the same proxy, else a first contact checked by pin.
func contact(ctx context.Context, proxy, pin string, insecure bool) (hostCAs []byte, caPin, cluster string, err error) {
	if h, err := home(); err == nil {
		if p, err := profile.Load(h); err == nil && p.Proxy == proxy && len(p.HostCAPEM) > 0 && pin == "" {
			return p.HostCAPEM, p.CAPin, p.Cluster, nil
		}
	}
	c, err := client.FirstContact(ctx, proxy, pin, insecure)
	if err != nil {
		return nil, "", "", err
	}
	return c.HostCAPEM, c.Pin, c.Ping.Cluster, nil
}

func saveIdentity(proxy, caPin string, hostCAs, keyPEM []byte, cert wire.Cert) (*profile.Profile, error) {
	h, err := home()
	if err != nil {
		return nil, err
	}
	if len(cert.HostCAPEM) > 0 {
		hostCAs = []byte(strings.Join(cert.HostCAPEM, ""))
	}
	p := &profile.Profile{Dir: h, Proxy: proxy, User: cert.User, Cluster: cert.Cluster, CAPin: caPin,
		CertPEM: []byte(cert.CertPEM), KeyPEM: keyPEM, HostCAPEM: hostCAs}
	return p, p.Save()
}

type authFlags struct {
	proxy, user, invite, caPin string
	insecure, pwStdin          bool
	ttl                        time.Duration
}

func (a *app) authenticate(ctx context.Context, f authFlags, signup bool) error {
	if f.proxy == "" {
		return errors.New("--proxy=HOST:PORT is required")
	}
	proxy := client.NormalizeProxy(f.proxy)
	hostCAs, pin, _, err := contact(ctx, proxy, f.caPin, f.insecure || signup && f.caPin == "")
	if err != nil {
		return err
	}
	prompt := "Password for " + f.user + ": "
	if signup {
		prompt = "Choose a password (at least 10 characters): "
	}
	pw, err := a.password(f.pwStdin, prompt)
	if err != nil {
		return err
	}
	keyPEM, pubPEM, err := client.NewKey()
	if err != nil {
		return err
	}
	c, err := client.Anonymous(proxy, hostCAs)
	if err != nil {
		return err
	}
	defer c.Close()
	req := wire.Login{User: f.user, Invite: f.invite, Password: pw, TTL: f.ttl, PublicKeyPEM: string(pubPEM)}
	var cert wire.Cert
	if signup {
		cert, err = c.Signup(ctx, req)
	} else {
		cert, err = c.Login(ctx, req)
	}
	if err != nil {
		return err
	}
	p, err := saveIdentity(proxy, pin, hostCAs, keyPEM, cert)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "Logged in as %s to cluster %s (%s)\nRoles: %s\nValid until: %s\nIdentity in %s\n",
		cert.User, cert.Cluster, proxy, strings.Join(cert.Roles, ","), cert.NotAfter.Local().Format(time.RFC3339), p.Dir)
	return nil
}

func (a *app) signupCmd() *cobra.Command {
	var f authFlags
	cmd := &cobra.Command{
		Use:   "signup",
		Short: "Set your password with the one-time invite from your admin, and log in",
		Example: `  toll signup --proxy=tollgate.example.com:7080 --invite=4f1c…
  echo "$PASSWORD" | toll signup --proxy=HOST:PORT --invite=… --password-stdin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.invite == "" {
				return errors.New("--invite is required (from the command your admin shared)")
			}
			return a.authenticate(cmd.Context(), f, true)
		},
	}
	cmd.Flags().StringVar(&f.proxy, "proxy", "", "control's address HOST:PORT")
	cmd.Flags().StringVar(&f.invite, "invite", "", "one-time invite")
	cmd.Flags().StringVar(&f.caPin, "ca-pin", "", "expected host CA pin sha256:… (the invite link is trusted otherwise)")
	cmd.Flags().BoolVar(&f.pwStdin, "password-stdin", false, "read the password from stdin")
	return cmd
}

func (a *app) loginCmd() *cobra.Command {
	var f authFlags
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in with your password and get a short-lived certificate",
		Example: `  toll login --proxy=tollgate.example.com:7080 --user=alice --ca-pin=sha256:…
  echo "$PASSWORD" | toll login --proxy=HOST:PORT --user=alice --password-stdin`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if f.user == "" {
				return errors.New("--user is required")
			}
			return a.authenticate(cmd.Context(), f, false)
		},
	}
	cmd.Flags().StringVar(&f.proxy, "proxy", "", "control's address HOST:PORT")
	cmd.Flags().StringVar(&f.user, "user", "", "user name")
	cmd.Flags().StringVar(&f.caPin, "ca-pin", "", "host CA pin sha256:… (needed on first contact unless --insecure)")
	cmd.Flags().BoolVar(&f.insecure, "insecure", false, "trust the cluster's host CA on first contact without a pin")
	cmd.Flags().BoolVar(&f.pwStdin, "password-stdin", false, "read the password from stdin")
	cmd.Flags().DurationVar(&f.ttl, "ttl", 0, "requested certificate validity (capped by your roles)")
	return cmd
}

func (a *app) logoutCmd() *cobra.Command {
	return &cobra.Command{
		Use: "logout", Short: "Remove your identity from this machine", Example: "  toll logout", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := home()
			if err != nil {
				return err
			}
			p, err := profile.Load(h)
			if errors.Is(err, profile.ErrNotFound) {
				fmt.Fprintln(a.stdout, "Not logged in.")
				return nil
			}
			if err != nil {
				return err
			}
			if err := p.Remove(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "Logged out %s from %s.\n", p.User, p.Proxy)
			return nil
		},
	}
}

func (a *app) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use: "status", Short: "Show who you are logged in as", Example: "  toll status", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			h, err := home()
			if err != nil {
				return err
			}
			p, err := profile.Load(h)
			if err != nil {
				return fmt.Errorf("%w; log in with toll login --proxy=HOST:PORT --user=NAME", err)
			}
			cert, err := p.Certificate()
			if err != nil {
				return err
			}
			state := "valid"
			if p.Expired(time.Now()) {
				state = "EXPIRED: toll login again"
			}
			fmt.Fprintf(a.stdout, "Proxy: %s\nCluster: %s\nUser: %s\nValid until: %s (%s)\n", p.Proxy, p.Cluster, p.User,
				cert.NotAfter.Local().Format(time.RFC3339), state)
			c, err := client.FromProfile(p, "")
			if err != nil {
				return err
			}
			defer c.Close()
			if who, err := c.Whoami(cmd.Context()); err == nil {
				fmt.Fprintf(a.stdout, "Roles: %s\n", strings.Join(who.Roles, ","))
			}
			return nil
		},
	}
}
