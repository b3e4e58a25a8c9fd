package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"gopkg.in/yaml.v3"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/profile"
)

// dbCmd is `toll db`: list, log in to, connect to and log out of databases.
func (a *app) dbCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "db", Short: "List databases, get their certificates and connect"}
	cmd.AddCommand(a.dbLsCmd(), a.dbLoginCmd(), a.dbConnectCmd(), a.dbEnvCmd(), a.dbConfigCmd(), a.dbLogoutCmd())
	return cmd
}

// session loads the profile and a client presenting it; a missing or
// expired identity is an error saying to log in.
func (a *app) session() (*profile.Profile, *client.Client, error) {
	h, err := home()
	if err != nil {
		return nil, nil, err
	}
	p, err := profile.Load(h)
	if errors.Is(err, profile.ErrNotFound) {
		return nil, nil, fmt.Errorf("not logged in: run %s", loginCommand)
	}
	if err != nil {
		return nil, nil, err
	}
	if p.Expired(time.Now()) {
		return nil, nil, fmt.Errorf("your certificate for %s expired: run toll login --proxy=%s --user=%s", p.Proxy, p.Proxy, p.User)
	}
	c, err := client.FromProfile(p, "")
	if err != nil {
		return nil, nil, err
	}
	return p, c, nil
}

// listDBs lists the databases the caller may reach.
func listDBs(ctx context.Context, p *profile.Profile, c *client.Client) ([]wire.Database, error) {
	dbs, err := c.DBList(ctx, false)
	return dbs, loginHint(p, err)
}

// listDBsRequestable is listDBs with the databases only a role the
// caller may request reaches (their RequestRoles set).
func listDBsRequestable(ctx context.Context, p *profile.Profile, c *client.Client) ([]wire.Database, error) {
	dbs, err := c.DBListRequestable(ctx)
	return dbs, loginHint(p, err)
}

// loginHint turns an expired or unknown identity into "run toll login".
func loginHint(p *profile.Profile, err error) error {
	if client.StatusOf(err) == 401 {
		return fmt.Errorf("%w: run toll login --proxy=%s --user=%s", err, p.Proxy, p.User)
	}
	return err
}

// errNeedsRequest is a database only a requestable role reaches.
var errNeedsRequest = errors.New("access request needed")

// findDB returns the database name the caller may reach, or an error
// listing the ones allowed.
func findDB(dbs []wire.Database, name string) (wire.Database, error) {
	var names []string
	for _, d := range dbs {
		if d.Name == name && len(d.RequestRoles) > 0 {
			roles := strings.Join(d.RequestRoles, ",")
			return wire.Database{}, fmt.Errorf("%w: %s is reachable only through a role you may request (%s): "+
				"toll db connect %s --request-roles=%s --reason=\"…\" (or toll request create --roles=%s --reason=\"…\")",
				errNeedsRequest, name, roles, name, roles, roles)
		}
		if len(d.RequestRoles) > 0 {
			continue
		}
		if d.Name == name {
			return d, nil
		}
		names = append(names, d.Name)
	}
	allowed := "none"
	if len(names) > 0 {
		allowed = strings.Join(names, ", ")
	}
	return wire.Database{}, fmt.Errorf("database %q not found or not allowed for you; you may use: %s "+
		"(if a role you may request reaches it: toll db connect %s --request-roles=ROLE --reason=\"…\", or toll request create)", name, allowed, name)
}

func allows(list []string, v string) bool {
	for _, x := range list {
		if x == "*" || x == v {
			return true
		}
	}
	return false
}

// pickDBUser chooses the db user: the flag, else the only one allowed,
// else the Tollgate user name when any is allowed.
func pickDBUser(d wire.Database, flag, user string) (string, error) {
	if flag != "" {
		if !allows(d.DBUsers, flag) {
			return "", fmt.Errorf("db user %q is not allowed on %s; you may use: %s", flag, d.Name, listOrNone(d.DBUsers))
		}
		return flag, nil
	}
	var concrete []string
	for _, u := range d.DBUsers {
		if u != "*" {
			concrete = append(concrete, u)
		}
	}
	switch {
	case allows(d.DBUsers, "*") && allows(d.DBUsers, user) && len(concrete) == 0:
		return user, nil
	case len(concrete) == 1:
		return concrete[0], nil
	case len(d.DBUsers) == 0:
		return "", fmt.Errorf("no db user is allowed for you on %s; ask your admin for db_users", d.Name)
	}
	return "", fmt.Errorf("pick a db user with --db-user: you may use %s on %s", listOrNone(d.DBUsers), d.Name)
}

func listOrNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

// dbChoice is the db user and db name to log in with; UserChosen and
// NameChosen mark the ones given with --db-user/--db-name, which the saved
// login remembers.
type dbChoice struct {
	User, Name             string
	UserChosen, NameChosen bool
	// OTP is a one-time code for roles that ask one per session.
	OTP string
}

// login gets a database route cert for name and saves it.
func (a *app) login(ctx context.Context, name string, ch dbChoice) (*dbLogin, error) {
	dbUser, dbName := ch.User, ch.Name
	if err := checkDBName(name); err != nil {
		return nil, err
	}
	p, c, err := a.session()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	dbs, err := listDBsRequestable(ctx, p, c)
	if err != nil {
		return nil, err
	}
	d, err := findDB(dbs, name)
	if err != nil {
		return nil, err
	}
	if dbUser, err = pickDBUser(d, dbUser, p.User); err != nil {
		return nil, err
	}
	if dbName == "" && d.Protocol == protoCRDB {
		dbName = defaultCRDB
	}
	if dbName != "" && len(d.DBNames) > 0 && !allows(d.DBNames, dbName) {
		return nil, fmt.Errorf("db name %q is not allowed on %s; you may use: %s", dbName, d.Name, listOrNone(d.DBNames))
	}
	keyPEM, pubPEM, err := client.NewKey()
	if err != nil {
		return nil, err
	}
	creq := wire.DBCertRequest{Database: name, DBUser: dbUser, DBName: dbName, PublicKeyPEM: string(pubPEM), OTP: ch.OTP}
	cert, err := c.DBCert(ctx, creq)
	if mfaRequired(err) && ch.OTP == "" {
		// A role asks for a code per session: the cert lasts a minute.
		if creq.OTP, err = a.oneTimeCode("", "One-time code for a session on "+name+": "); err == nil {
			cert, err = c.DBCert(ctx, creq)
		}
	}
	if client.StatusOf(err) == 401 {
		return nil, fmt.Errorf("%w: run toll login --proxy=%s --user=%s", err, p.Proxy, p.User)
	}
	if err != nil {
		return nil, err
	}
	ca := cert.CAPEM
	if len(ca) == 0 {
		ca = cert.HostCAPEM
	}
	caPEM := []byte(strings.Join(ca, ""))
	if len(caPEM) == 0 {
		caPEM = p.HostCAPEM
	}
	h, err := home()
	if err != nil {
		return nil, err
	}
	l := &dbLogin{dir: dbRoot(h) + string(os.PathSeparator) + name, Name: name, Protocol: d.Protocol, PublicAddr: d.PublicAddr,
		DBUser: dbUser, DBName: dbName, DBUserChosen: ch.UserChosen, DBNameChosen: ch.NameChosen, User: p.User, NotAfter: cert.NotAfter}
	if l.PublicAddr == "" {
		return nil, fmt.Errorf("database %s has no agent address yet (its agent has not registered a public_addr)", name)
	}
	if err := l.save([]byte(cert.CertPEM), keyPEM, caPEM); err != nil {
		return nil, err
	}
	return l, nil
}

// ensureLogin reuses a saved, valid login of the current user matching
// the flags, else logs in. A db user or db name chosen earlier with
// --db-user/--db-name stands when the flag is left out, also for a new
// login (it is said on stderr); the saved CA file follows the profile's
// host CA bundle.
func (a *app) ensureLogin(ctx context.Context, name string, f dbFlags) (*dbLogin, error) {
	h, err := home()
	if err != nil {
		return nil, err
	}
	l, p, ch := remembered(h, name, f)
	if l != nil && !l.expired(time.Now().Add(time.Minute)) && (ch.User == "" || ch.User == l.DBUser) && (ch.Name == "" || ch.Name == l.DBName) {
		if _, err := l.syncCA(p.HostCAPEM); err != nil {
			return nil, err
		}
		a.noteRemembered(l, f)
		return l, nil
	}
	l, err = a.login(ctx, name, ch)
	if err != nil {
		return nil, err
	}
	a.noteRemembered(l, f)
	return l, nil
}

// remembered returns the saved login of name when it is the current
// user's (with the profile), and the choice of the flags completed by
// what that login remembers.
func remembered(h, name string, f dbFlags) (*dbLogin, *profile.Profile, dbChoice) {
	ch := f.choice()
	p, err := profile.Load(h)
	if err != nil {
		return nil, nil, ch
	}
	l, err := loadDBLogin(h, name)
	if err != nil || l.User != p.User {
		return nil, p, ch
	}
	if ch.User == "" && l.DBUserChosen {
		ch.User, ch.UserChosen = l.DBUser, true
	}
	if ch.Name == "" && l.DBNameChosen {
		ch.Name, ch.NameChosen = l.DBName, true
	}
	return l, p, ch
}

// noteRemembered says on stderr when l uses a db user or db name chosen
// earlier that the flags of this command did not give.
func (a *app) noteRemembered(l *dbLogin, f dbFlags) {
	var what []string
	if l.DBUserChosen && f.dbUser == "" {
		what = append(what, "db user "+l.DBUser)
	}
	if l.DBNameChosen && f.dbName == "" {
		what = append(what, "db name "+l.DBName)
	}
	if len(what) > 0 {
		fmt.Fprintf(a.stderr, "Using %s on %s, given earlier with --db-user/--db-name (toll db logout %s forgets it).\n",
			strings.Join(what, " and "), l.Name, l.Name)
	}
}

// checkReachable dials the agent so an unreachable one is a clear error.
func checkReachable(ctx context.Context, l *dbLogin) error {
	h, p := l.hostPort()
	addr := net.JoinHostPort(h, p)
	d := net.Dialer{Timeout: 10 * time.Second}
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("the agent serving %s is unreachable at %s: %w", l.Name, addr, err)
	}
	return c.Close()
}

type dbFlags struct{ dbUser, dbName, otp string }

func (f dbFlags) choice() dbChoice {
	return dbChoice{User: f.dbUser, Name: f.dbName, UserChosen: f.dbUser != "", NameChosen: f.dbName != "", OTP: f.otp}
}

func (f *dbFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.dbUser, "db-user", "", "database user to connect as (default: the only one allowed, or your user name); "+
		"remembered for this database until toll db logout NAME (toll status and toll db ls show it)")
	cmd.Flags().StringVar(&f.dbName, "db-name", "", "database name (default: defaultdb for cockroachdb, else the db user's name); "+
		"remembered like --db-user")
	cmd.Flags().StringVar(&f.otp, "otp", "", "one-time code, when your roles ask one per session (require_mfa: session; else asked for)")
}

// rememberedHelp is the part of --help of the commands that log in to a
// database that says what they remember.
const rememberedHelp = `A --db-user or --db-name given once is remembered for this database: later commands
without the flag (connect, env, config, proxy db, also when they log in again) keep using
it and say so on stderr, until toll db logout NAME. toll status and toll db ls show it.`

func (a *app) dbLsCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "ls [label=value ...]",
		Short: "List the databases you may reach",
		Long: `List the databases your roles allow, with the db users you may use on each.

Connects As is the db user toll db connect NAME uses without --db-user: the one remembered
from an earlier --db-user ("remembered": toll db logout NAME forgets it), else the one of
the current database login, else the default (the only db user allowed, or your user name
when any is); "choose with --db-user" when there is no default.`,
		Example: `  toll db ls
  toll db ls env=dev --format=json`,
		RunE: func(cmd *cobra.Command, args []string) error {
			sel := map[string]string{}
			for _, s := range args {
				k, v, ok := strings.Cut(s, "=")
				if !ok || k == "" {
					return fmt.Errorf("label selector %q: use key=value", s)
				}
				sel[k] = v
			}
			p, c, err := a.session()
			if err != nil {
				return err
			}
			defer c.Close()
			dbs, err := listDBs(cmd.Context(), p, c)
			if err != nil {
				return err
			}
			var out []wire.Database
			for _, d := range dbs {
				match := true
				for k, v := range sel {
					if d.Labels[k] != v {
						match = false
					}
				}
				if match {
					out = append(out, d)
				}
			}
			h, err := home()
			if err != nil {
				return err
			}
			return a.printDBs(out, format, h, p.User)
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "text, json or yaml")
	return cmd
}

type dbRow struct {
	Name        string            `json:"name" yaml:"name"`
	Description string            `json:"description,omitempty" yaml:"description,omitempty"`
	Protocol    string            `json:"protocol" yaml:"protocol"`
	Labels      map[string]string `json:"labels,omitempty" yaml:"labels,omitempty"`
	DBUsers     []string          `json:"db_users,omitempty" yaml:"db_users,omitempty"`
	DBNames     []string          `json:"db_names,omitempty" yaml:"db_names,omitempty"`
	PublicAddr  string            `json:"public_addr,omitempty" yaml:"public_addr,omitempty"`
	// ConnectsAs is the db user toll db connect uses without --db-user;
	// Remembered says it was given with --db-user earlier.
	ConnectsAs string `json:"connects_as,omitempty" yaml:"connects_as,omitempty"`
	Remembered bool   `json:"remembered,omitempty" yaml:"remembered,omitempty"`
}

// connectsAs is the db user toll db connect d uses without --db-user for
// user: the saved login's (remembered or not) when it is user's, else the
// default pick ("" when there is none).
func connectsAs(home string, d wire.Database, user string) (string, bool) {
	if l, err := loadDBLogin(home, d.Name); err == nil && l.User == user {
		return l.DBUser, l.DBUserChosen
	}
	u, err := pickDBUser(d, "", user)
	if err != nil {
		return "", false
	}
	return u, false
}

func labelString(m map[string]string) string {
	var kv []string
	for k, v := range m {
		kv = append(kv, k+"="+v)
	}
	sort.Strings(kv)
	return strings.Join(kv, ",")
}

func (a *app) printDBs(dbs []wire.Database, format, home, user string) error {
	rows := make([]dbRow, 0, len(dbs))
	for _, d := range dbs {
		as, rem := connectsAs(home, d, user)
		rows = append(rows, dbRow{Name: d.Name, Description: d.Description, Protocol: d.Protocol, Labels: d.Labels,
			DBUsers: d.DBUsers, DBNames: d.DBNames, PublicAddr: d.PublicAddr, ConnectsAs: as, Remembered: rem})
	}
	switch format {
	case "json":
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		_, err = fmt.Fprintln(a.stdout, string(b))
		return err
	case "yaml":
		b, err := yaml.Marshal(rows)
		if err != nil {
			return err
		}
		_, err = a.stdout.Write(b)
		return err
	case "text", "":
	default:
		return fmt.Errorf("--format %q: use text, json or yaml", format)
	}
	tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "Name\tDescription\tProtocol\tLabels\tDB Users\tConnects As")
	fmt.Fprintln(tw, "----\t-----------\t--------\t------\t--------\t-----------")
	for _, r := range rows {
		as := r.ConnectsAs
		switch {
		case as == "":
			as = "choose with --db-user"
		case r.Remembered:
			as += " (remembered)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", r.Name, r.Description, r.Protocol, labelString(r.Labels), strings.Join(r.DBUsers, ","), as)
	}
	return tw.Flush()
}

func (a *app) dbLoginCmd() *cobra.Command {
	var f dbFlags
	cmd := &cobra.Command{
		Use:     "login NAME",
		Short:   "Get a certificate for a database (done by connect when needed)",
		Long:    "Get a certificate for a database (done by connect when needed)" + "\n\n" + rememberedHelp,
		Example: "  toll db login roach --db-user=alice",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkDBName(args[0]); err != nil {
				return err
			}
			h, err := home()
			if err != nil {
				return err
			}
			_, _, ch := remembered(h, args[0], f)
			l, err := a.login(cmd.Context(), args[0], ch)
			if err != nil {
				return err
			}
			a.noteRemembered(l, f)
			fmt.Fprintf(a.stdout, "Logged in to database %s as db user %s (valid until %s).\nConnect with: toll db connect %s\n",
				l.Name, l.DBUser, l.NotAfter.Local().Format(time.RFC3339), l.Name)
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func (a *app) dbEnvCmd() *cobra.Command {
	var f dbFlags
	cmd := &cobra.Command{
		Use:     "env NAME",
		Short:   "Print shell export lines for libpq clients",
		Long:    "Print shell export lines for libpq clients" + "\n\n" + tunnelEnvHelp + "\n\n" + rememberedHelp,
		Example: `  eval "$(toll db env roach)" && psql`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := a.ensureLogin(cmd.Context(), args[0], f)
			if err != nil {
				return err
			}
			if l.tunneled() {
				if err := routePublic(l); err != nil {
					return err
				}
			}
			for _, kv := range l.env() {
				fmt.Fprintf(a.stdout, "export %s=%s\n", kv[0], shellQuote(kv[1]))
			}
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " '\"$`\\!*?;&|<>(){}[]#~") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

func (a *app) dbConfigCmd() *cobra.Command {
	var f dbFlags
	cmd := &cobra.Command{
		Use:     "config NAME",
		Short:   "Print the connection string and certificate paths",
		Long:    "Print the connection string and certificate paths" + "\n\n" + tunnelEnvHelp + "\n\n" + rememberedHelp,
		Example: "  toll db config roach",
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			l, err := a.ensureLogin(cmd.Context(), args[0], f)
			if err != nil {
				return err
			}
			if l.tunneled() {
				if err := routePublic(l); err != nil {
					return err
				}
			}
			h, p := l.hostPort()
			if r := l.public; r != nil {
				h, p = strings.Join(r.hosts, ","), strings.Join(r.ports, ",")
			}
			fmt.Fprintf(a.stdout, "Name:      %s\nHost:      %s\nPort:      %s\nUser:      %s\nDatabase:  %s\nCA:        %s\nCert:      %s\nKey:       %s\nValid:     until %s\n\nConnection string:\n  %s\nURL:\n  %s\n",
				l.Name, h, p, l.DBUser, l.DBName, l.CAPath(), l.CertPath(), l.KeyPath(), l.NotAfter.Local().Format(time.RFC3339), l.connString(), l.url())
			if l.Protocol == protoCRDB {
				fmt.Fprintf(a.stdout, "Set %s=UTF8 (CockroachDB supports only UTF8).\n", pgClientEnc)
			}
			return nil
		},
	}
	f.add(cmd)
	return cmd
}

func (a *app) dbLogoutCmd() *cobra.Command {
	return &cobra.Command{
		Use:     "logout [NAME]",
		Short:   "Remove a database's certificates (all databases' without a name)",
		Example: "  toll db logout roach",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			h, err := home()
			if err != nil {
				return err
			}
			names := args
			if len(names) == 0 {
				if names, err = dbLogins(h); err != nil {
					return err
				}
			} else if _, err := loadDBLogin(h, names[0]); errors.Is(err, errNoDBLogin) {
				fmt.Fprintf(a.stdout, "Not logged in to database %s.\n", names[0])
				return nil
			} else if err != nil {
				return err
			}
			for _, n := range names {
				if err := os.RemoveAll(dbRoot(h) + string(os.PathSeparator) + n); err != nil {
					return fmt.Errorf("remove certificates of %s: %w", n, err)
				}
				fmt.Fprintf(a.stdout, "Logged out of database %s.\n", n)
			}
			if len(names) == 0 {
				fmt.Fprintln(a.stdout, "Not logged in to any database.")
			}
			return nil
		},
	}
}
