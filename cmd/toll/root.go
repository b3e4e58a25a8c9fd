package main

import (
	"bufio"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/profile"
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
	root.AddCommand(a.requestCmd())
	root.AddCommand(a.mfaCmd())
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
// when it is for the same proxy (saved is set), else a first contact
// checked by pin.
func contact(ctx context.Context, proxy, pin string, insecure bool) (hostCAs []byte, caPin string, saved bool, err error) {
	if h, err := home(); err == nil {
		if p, err := profile.Load(h); err == nil && p.Proxy == proxy && len(p.HostCAPEM) > 0 && pin == "" {
			return p.HostCAPEM, p.CAPin, true, nil
		}
	}
	c, err := client.FirstContact(ctx, proxy, pin, insecure)
	if err != nil {
		return nil, "", false, err
	}
	return c.HostCAPEM, c.Pin, false, nil
}

// staleHostCA is the error of a login whose saved host CAs no longer
// verify control: most likely the host CA was rotated while this machine
// did not log in.
func staleHostCA(proxy, user, pin string, err error) error {
	saved := "the host CA this machine saved at your last login"
	if pin != "" {
		saved += " (pin " + pin + ")"
	}
	return fmt.Errorf("control at %s no longer presents a certificate from %s: the cluster's host CA was probably rotated. "+
		"Get the current pin from `tollctl status` on the control host (or from your admin) and log in with it: "+
		"toll login --proxy=%s --user=%s --ca-pin=sha256:…\n(%w)", proxy, saved, proxy, user, err)
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

// proxyFlagHelp is the help of login's and signup's --proxy.
const proxyFlagHelp = "control's address HOST:PORT, or a comma-separated list of the cluster's controls " +
	"(HOST:PORT,HOST:PORT) tried in order when one cannot be reached; saved in your identity"

type authFlags struct {
	proxy, user, invite, caPin, otp string
	insecure, pwStdin               bool
	ttl                             time.Duration
	// auth is the login method: "password" or "oidc" (single sign-on).
	auth string
	sso  ssoFlags
}

func (a *app) authenticate(ctx context.Context, f authFlags, signup bool) error {
	if f.proxy == "" {
		return errors.New("--proxy=HOST:PORT is required (several controls: --proxy=HOST:PORT,HOST:PORT)")
	}
	addrs, err := client.ParseProxies(f.proxy)
	if err != nil {
		return fmt.Errorf("--proxy: %w", err)
	}
	proxy := strings.Join(addrs, ",")
	hostCAs, pin, saved, err := contact(ctx, proxy, f.caPin, f.insecure || signup && f.caPin == "")
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
	var cert wire.Cert
	if f.auth == authOIDC {
		cert, err = a.oidcLogin(ctx, c, f, pubPEM)
	} else {
		cert, err = a.passwordLogin(ctx, c, f, signup, pubPEM)
	}
	var unknownCA x509.UnknownAuthorityError
	if errors.As(err, &unknownCA) && saved {
		return staleHostCA(proxy, f.user, pin, err)
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
	// The agents' certs come from the host CA: every database login
	// verifies them with the bundle just received.
	changed, err := refreshDBCAs(p.Dir, p.HostCAPEM)
	if err != nil {
		return fmt.Errorf("update the CA files of your database logins: %w", err)
	}
	if len(changed) > 0 {
		fmt.Fprintf(a.stdout, "The cluster's host CAs changed: updated the CA file of your database logins (%s).\n", strings.Join(changed, ", "))
	}
	return nil
}

// Login methods (toll login --auth).
const (
	authPassword = "password"
	authOIDC     = "oidc"
)

// passwordLogin logs in (or signs up) with a password, and the one-time
// code of a second factor when control asks for one.
func (a *app) passwordLogin(ctx context.Context, c *client.Client, f authFlags, signup bool, pubPEM []byte) (wire.Cert, error) {
	prompt := "Password for " + f.user + ": "
	if signup {
		prompt = "Choose a password (at least 10 characters): "
	}
	pw, err := a.password(f.pwStdin, prompt)
	if err != nil {
		return wire.Cert{}, err
	}
	req := wire.Login{User: f.user, Invite: f.invite, Password: pw, TTL: f.ttl, PublicKeyPEM: string(pubPEM), OTP: f.otp}
	send := c.Login
	if signup {
		send = c.Signup
	}
	cert, err := send(ctx, req)
	if mfaRequired(err) && f.otp == "" {
		if req.OTP, err = a.oneTimeCode("", "One-time code of your second factor: "); err == nil {
			cert, err = send(ctx, req)
		}
	}
	return cert, err
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
	cmd.Flags().StringVar(&f.proxy, "proxy", "", proxyFlagHelp)
	cmd.Flags().StringVar(&f.invite, "invite", "", "one-time invite")
	cmd.Flags().StringVar(&f.otp, "otp", "", "one-time code of your second factor, if you have one (else asked for when needed)")
	cmd.Flags().StringVar(&f.caPin, "ca-pin", "", "expected host CA pin sha256:… (the invite link is trusted otherwise)")
	cmd.Flags().BoolVar(&f.pwStdin, "password-stdin", false, "read the password from stdin")
	return cmd
}

func (a *app) loginCmd() *cobra.Command {
	var f authFlags
	cmd := &cobra.Command{
		Use:   "login",
		Short: "Log in with your password or through single sign-on, and get a short-lived certificate",
		Example: `  toll login --proxy=tollgate.example.com:7080 --user=alice --ca-pin=sha256:…
  echo "$PASSWORD" | toll login --proxy=HOST:PORT --user=alice --password-stdin
  toll login --proxy=control-a:7080,control-b:7080 --user=alice   # fails over to control-b
  toll login --proxy=HOST:PORT --auth=oidc                        # single sign-on in your browser
  toll login --proxy=HOST:PORT --auth=oidc --connector=corp --no-browser   # prints the URL to open`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch f.auth {
			case authPassword:
				if f.user == "" {
					return errors.New("--user is required (or --auth=oidc to log in through single sign-on)")
				}
			case authOIDC:
				if f.user != "" || f.pwStdin {
					return errors.New("--auth=oidc takes no --user or --password-stdin: the provider says who you are")
				}
				if f.sso.timeout <= 0 {
					return errors.New("--timeout must be positive")
				}
			default:
				return fmt.Errorf("--auth=%s: use password (the default) or oidc", f.auth)
			}
			return a.authenticate(cmd.Context(), f, false)
		},
	}
	cmd.Flags().StringVar(&f.proxy, "proxy", "", proxyFlagHelp)
	cmd.Flags().StringVar(&f.user, "user", "", "user name")
	cmd.Flags().StringVar(&f.caPin, "ca-pin", "", "host CA pin sha256:… (needed on first contact unless --insecure)")
	cmd.Flags().BoolVar(&f.insecure, "insecure", false, "trust the cluster's host CA on first contact without a pin")
	cmd.Flags().BoolVar(&f.pwStdin, "password-stdin", false, "read the password from stdin")
	cmd.Flags().DurationVar(&f.ttl, "ttl", 0, "requested certificate validity (capped by your roles)")
	cmd.Flags().StringVar(&f.otp, "otp", "", "one-time code of your second factor (else asked for when needed)")
	cmd.Flags().StringVar(&f.auth, "auth", authPassword, "login method: password, or oidc (single sign-on through the cluster's OpenID Connect connector)")
	cmd.Flags().StringVar(&f.sso.connector, "connector", "", "with --auth=oidc: the connector to log in through (needed when the cluster has several)")
	cmd.Flags().BoolVar(&f.sso.noBrowser, "no-browser", false, "with --auth=oidc: print the login URL instead of opening a browser")
	cmd.Flags().DurationVar(&f.sso.timeout, "timeout", 5*time.Minute, "with --auth=oidc: how long to wait for the browser to come back")
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

// printDBLogins lists the saved database logins of user: the db user and
// db name each uses (and whether they were given with --db-user/--db-name,
// which later commands keep using) and until when.
func (a *app) printDBLogins(h, user string) error {
	names, err := dbLogins(h)
	if err != nil {
		return err
	}
	var rows [][]string
	for _, n := range names {
		l, err := loadDBLogin(h, n)
		if err != nil || l.User != user {
			continue
		}
		dbUser, dbName := l.DBUser, l.DBName
		if l.DBUserChosen {
			dbUser += " (remembered)"
		}
		if dbName == "" {
			dbName = "-"
		} else if l.DBNameChosen {
			dbName += " (remembered)"
		}
		valid := "until " + l.NotAfter.Local().Format(time.RFC3339)
		if l.expired(time.Now()) {
			valid = "expired (renewed at the next connect)"
		}
		rows = append(rows, []string{n, dbUser, dbName, valid})
	}
	if len(rows) == 0 {
		fmt.Fprintln(a.stdout, "Databases: none logged in (toll db connect NAME logs in)")
		return nil
	}
	fmt.Fprintln(a.stdout, "Databases (toll db connect NAME uses these without flags; \"remembered\" was given with --db-user/--db-name, toll db logout NAME forgets it):")
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  Name\tDB User\tDB Name\tCertificate")
	for _, r := range rows {
		fmt.Fprintf(tw, "  %s\n", strings.Join(r, "\t"))
	}
	return tw.Flush()
}

func (a *app) statusCmd() *cobra.Command {
	return &cobra.Command{
		Use: "status", Short: "Show who you are logged in as, and your database logins", Example: "  toll status", Args: cobra.NoArgs,
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
			} else {
				fmt.Fprintf(a.stderr, "warning: control did not answer: %v\n", err)
			}
			return a.printDBLogins(h, p.User)
		},
	}
}
