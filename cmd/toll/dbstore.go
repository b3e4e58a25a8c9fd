package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/internal/profile"
)

// Files of one database login under <home>/db/<name>/.
const (
	dbDirName    = "db"
	dbCertFile   = "db.crt"
	dbKeyFile    = "db.key"
	dbCAFile     = "ca.pem"
	dbMetaFile   = "db.json"
	defaultCRDB  = "defaultdb"
	protoCRDB    = "cockroachdb"
	pgClientEnc  = "PGCLIENTENCODING"
	loginCommand = "toll login --proxy=HOST:PORT --user=NAME"
)

// dbLogin is a database route cert saved by toll db login (or by a
// command that logs in when needed). DBUserChosen and DBNameChosen mark a
// db user or db name given with --db-user/--db-name: later commands
// without the flag keep using it (also when they log in again) until
// toll db logout; toll status and toll db ls show it.
type dbLogin struct {
	dir          string
	Name         string    `json:"name"`
	Protocol     string    `json:"protocol"`
	PublicAddr   string    `json:"public_addr"`
	DBUser       string    `json:"db_user"`
	DBName       string    `json:"db_name"`
	DBUserChosen bool      `json:"db_user_chosen,omitempty"`
	DBNameChosen bool      `json:"db_name_chosen,omitempty"`
	User         string    `json:"user"`
	NotAfter     time.Time `json:"not_after"`
	// local, when set, is a local proxy of this process serving the
	// database in plain (a tunneled database's toll db connect): the
	// connection strings point there.
	local string
	// public, when set, is the route of a tunneled database through
	// control's public port (toll db env and config): the connection
	// strings point there.
	public *publicRoute
}

func dbRoot(home string) string { return filepath.Join(home, dbDirName) }

func (l *dbLogin) CertPath() string { return filepath.Join(l.dir, dbCertFile) }
func (l *dbLogin) KeyPath() string  { return filepath.Join(l.dir, dbKeyFile) }
func (l *dbLogin) CAPath() string   { return filepath.Join(l.dir, dbCAFile) }

// host and port of the agent; an unspecified listen host means this machine.
func (l *dbLogin) hostPort() (string, string) {
	h, p, err := net.SplitHostPort(l.PublicAddr)
	if err != nil {
		return l.PublicAddr, "7432"
	}
	if h == "" || h == "0.0.0.0" || h == "::" {
		h = "127.0.0.1"
	}
	return h, p
}

func (l *dbLogin) expired(now time.Time) bool { return !now.Before(l.NotAfter) }

// save writes cert, key, CA bundle and metadata, all 0600.
func (l *dbLogin) save(certPEM, keyPEM, caPEM []byte) error {
	if err := os.MkdirAll(l.dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", l.dir, err)
	}
	meta, err := json.MarshalIndent(l, "", "  ")
	if err != nil {
		return err
	}
	for path, data := range map[string][]byte{l.CertPath(): certPEM, l.KeyPath(): keyPEM, l.CAPath(): caPEM} {
		if err := profile.WriteFile(path, data); err != nil {
			return err
		}
	}
	return profile.WriteFile(filepath.Join(l.dir, dbMetaFile), append(meta, '\n'))
}

var errNoDBLogin = errors.New("not logged in to this database")

// syncCA makes the login's CA file (what clients verify the agent with:
// the host CA bundle) hold caPEM; it reports whether the file changed.
func (l *dbLogin) syncCA(caPEM []byte) (bool, error) {
	if len(caPEM) == 0 {
		return false, nil
	}
	old, err := os.ReadFile(l.CAPath())
	if err == nil && bytes.Equal(old, caPEM) {
		return false, nil
	}
	if err := profile.WriteFile(l.CAPath(), caPEM); err != nil {
		return false, err
	}
	return true, nil
}

// refreshDBCAs makes the CA file of every database login in home hold
// caPEM (after a login brought a new host CA bundle, e.g. in a host CA
// rotation) and returns the names whose file changed.
func refreshDBCAs(home string, caPEM []byte) ([]string, error) {
	names, err := dbLogins(home)
	if err != nil {
		return nil, err
	}
	var changed []string
	for _, n := range names {
		l, err := loadDBLogin(home, n)
		if err != nil {
			return changed, err
		}
		ok, err := l.syncCA(caPEM)
		if err != nil {
			return changed, err
		}
		if ok {
			changed = append(changed, n)
		}
	}
	return changed, nil
}

// checkDBName refuses names that are not one path element.
func checkDBName(name string) error {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return fmt.Errorf("database name %q is not valid", name)
	}
	return nil
}

func loadDBLogin(home, name string) (*dbLogin, error) {
	if err := checkDBName(name); err != nil {
		return nil, err
	}
	dir := filepath.Join(dbRoot(home), name)
	raw, err := os.ReadFile(filepath.Join(dir, dbMetaFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, errNoDBLogin
	}
	if err != nil {
		return nil, fmt.Errorf("read database login: %w", err)
	}
	l := &dbLogin{dir: dir}
	if err := json.Unmarshal(raw, l); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, dbMetaFile), err)
	}
	return l, nil
}

// dbLogins lists the saved database logins by name.
func dbLogins(home string) ([]string, error) {
	ents, err := os.ReadDir(dbRoot(home))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range ents {
		if _, err := os.Stat(filepath.Join(dbRoot(home), e.Name(), dbMetaFile)); e.IsDir() && err == nil {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	return out, nil
}

// tlsConfig presents the route cert and verifies the agent.
func (l *dbLogin) tlsConfig() (*tls.Config, error) {
	pair, err := tls.LoadX509KeyPair(l.CertPath(), l.KeyPath())
	if err != nil {
		return nil, fmt.Errorf("load database cert of %s: %w (toll db login %s)", l.Name, err, l.Name)
	}
	ca, err := os.ReadFile(l.CAPath())
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("%s holds no CA certificate (toll db login %s)", l.CAPath(), l.Name)
	}
	host, _ := l.hostPort()
	return &tls.Config{Certificates: []tls.Certificate{pair}, RootCAs: pool, ServerName: host, MinVersion: tls.VersionTLS12}, nil
}

// connString is the libpq keyword/value connection string.
func (l *dbLogin) connString() string {
	if l.local != "" {
		h, p, _ := net.SplitHostPort(l.local)
		return "host=" + h + " port=" + p + " user=" + quoteKV(l.DBUser) + " dbname=" + quoteKV(l.DBName) + " sslmode=disable"
	}
	var kv [][2]string
	if r := l.public; r != nil {
		kv = [][2]string{{"host", strings.Join(r.hosts, ",")}, {"hostaddr", r.hostaddr()}, {"port", strings.Join(r.ports, ",")}}
	} else {
		h, p := l.hostPort()
		kv = [][2]string{{"host", h}, {"port", p}}
	}
	kv = append(kv, [][2]string{{"user", l.DBUser}, {"dbname", l.DBName}, {"sslmode", l.sslMode()},
		{"sslrootcert", l.CAPath()}, {"sslcert", l.CertPath()}, {"sslkey", l.KeyPath()}}...)
	var b strings.Builder
	for i, e := range kv {
		if e[1] == "" {
			continue
		}
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(e[0] + "=" + quoteKV(e[1]))
	}
	return strings.TrimSpace(b.String())
}

// url is the postgresql:// URL form (for cockroach sql --url).
func (l *dbLogin) url() string {
	if l.local != "" {
		return "postgresql://" + l.DBUser + "@" + l.local + "/" + l.DBName + "?sslmode=disable"
	}
	q := "sslmode=" + l.sslMode() + "&sslrootcert=" + l.CAPath() + "&sslcert=" + l.CertPath() + "&sslkey=" + l.KeyPath()
	if r := l.public; r != nil {
		hps := make([]string, len(r.hosts))
		for i := range r.hosts {
			hps[i] = net.JoinHostPort(r.hosts[i], r.ports[i])
		}
		if a := r.hostaddr(); a != "" {
			q += "&hostaddr=" + a
		}
		return "postgresql://" + l.DBUser + "@" + strings.Join(hps, ",") + "/" + l.DBName + "?" + q
	}
	h, p := l.hostPort()
	return "postgresql://" + l.DBUser + "@" + net.JoinHostPort(h, p) + "/" + l.DBName + "?" + q
}

// sslMode is verify-full to an agent reached directly, by its name;
// through control's public port control picks the agent, whose cert is
// verified as a host cert of the cluster (verify-ca), as toll does.
func (l *dbLogin) sslMode() string {
	if l.public != nil {
		return "verify-ca"
	}
	return "verify-full"
}

func quoteKV(v string) string {
	if v != "" && !strings.ContainsAny(v, ` '\`) {
		return v
	}
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(v) + "'"
}

// env is the libpq environment for this login.
func (l *dbLogin) env() [][2]string {
	var out [][2]string
	if r := l.public; r != nil {
		out = [][2]string{{"PGHOST", strings.Join(r.hosts, ",")}}
		if a := r.hostaddr(); a != "" {
			out = append(out, [2]string{"PGHOSTADDR", a})
		}
		out = append(out, [2]string{"PGPORT", strings.Join(r.ports, ",")})
	} else {
		h, p := l.hostPort()
		out = [][2]string{{"PGHOST", h}, {"PGPORT", p}}
	}
	out = append(out, [][2]string{{"PGSSLMODE", l.sslMode()}, {"PGSSLCERT", l.CertPath()},
		{"PGSSLKEY", l.KeyPath()}, {"PGSSLROOTCERT", l.CAPath()}, {"PGUSER", l.DBUser}, {"PGDATABASE", l.DBName}}...)
	if l.Protocol == protoCRDB {
		out = append(out, [2]string{pgClientEnc, "UTF8"})
	}
	return out
}
