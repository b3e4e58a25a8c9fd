package join

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/version"
)

// ErrNoToken means the agent has no identity yet and no join token to get
// one.
var ErrNoToken = errors.New("this agent has not joined a cluster yet and has no join token: create one with `tollctl tokens add --type=db` and set tollgate.auth_token")

// Files under <data_dir>/agent.
const (
	dirName   = "agent"
	certFile  = "host.crt"
	keyFile   = "host.key"
	hostCA    = "host-ca.pem"
	userCA    = "user-ca.pem"
	dbCA      = "db-ca.pem"
	stateFile = "agent.json"
)

// Identity is an agent's membership in a cluster.
type Identity struct {
	AgentID string `json:"agent_id"`
	Cluster string `json:"cluster"`
	NATSURL string `json:"nats_url,omitempty"`
	// Proxy and CAPin are the control address and host CA pin the agent
	// joined with (a separate agent's tollgate.proxy_server and ca_pin;
	// empty in process and for identities stored before they were kept):
	// a config naming others is checked against control (stale.go).
	Proxy string `json:"proxy,omitempty"`
	CAPin string `json:"ca_pin,omitempty"`
	// CertPEM and KeyPEM are the host cert and its key.
	CertPEM string `json:"-"`
	KeyPEM  string `json:"-"`
	// CA bundles as received at join (the live ones come from the
	// projection).
	HostCAPEM []string `json:"-"`
	UserCAPEM []string `json:"-"`
	DBCAPEM   []string `json:"-"`
}

// TLSCertificate returns the host cert with its key.
func (id *Identity) TLSCertificate() (tls.Certificate, error) {
	c, err := tls.X509KeyPair([]byte(id.CertPEM), []byte(id.KeyPEM))
	if err != nil {
		return tls.Certificate{}, fmt.Errorf("agent host cert: %w", err)
	}
	c.Leaf, _ = x509.ParseCertificate(c.Certificate[0])
	return c, nil
}

// Request is what Ensure joins with when there is no identity yet.
type Request struct {
	Token      string
	Hostname   string
	PublicAddr string
	Resources  []map[string][]string
	// Proxy and CAPin are recorded in the identity (see Identity).
	Proxy, CAPin string
}

// Dir returns the identity directory under dataDir.
func Dir(dataDir string) string { return filepath.Join(dataDir, dirName) }

// Load reads the identity stored under dataDir; os.ErrNotExist (wrapped)
// when there is none.
func Load(dataDir string) (*Identity, error) {
	dir := Dir(dataDir)
	raw, err := os.ReadFile(filepath.Join(dir, stateFile))
	if err != nil {
		return nil, fmt.Errorf("read agent identity: %w", err)
	}
	id := &Identity{}
	if err := json.Unmarshal(raw, id); err != nil {
		return nil, fmt.Errorf("agent identity %s: %w", filepath.Join(dir, stateFile), err)
	}
	read := func(name string) (string, error) {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return "", fmt.Errorf("read agent identity: %w", err)
		}
		return string(b), nil
	}
	if id.CertPEM, err = read(certFile); err != nil {
		return nil, err
	}
	if id.KeyPEM, err = read(keyFile); err != nil {
		return nil, err
	}
	for name, dst := range map[string]*[]string{hostCA: &id.HostCAPEM, userCA: &id.UserCAPEM, dbCA: &id.DBCAPEM} {
		b, err := read(name)
		if err != nil {
			return nil, err
		}
		*dst = splitPEM(b)
	}
	if _, err := id.TLSCertificate(); err != nil {
		return nil, err
	}
	return id, nil
}

// Save writes id under dataDir: the key 0600, the rest 0644, the dir 0700.
func Save(dataDir string, id *Identity) error {
	dir := Dir(dataDir)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", dir, err)
	}
	meta, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	files := []struct {
		name string
		data string
		mode os.FileMode
	}{
		{keyFile, id.KeyPEM, 0o600},
		{certFile, id.CertPEM, 0o644},
		{hostCA, strings.Join(id.HostCAPEM, ""), 0o644},
		{userCA, strings.Join(id.UserCAPEM, ""), 0o644},
		{dbCA, strings.Join(id.DBCAPEM, ""), 0o644},
		{stateFile, string(meta) + "\n", 0o644}, // last: its presence means complete
	}
	for _, f := range files {
		if err := WriteFile(filepath.Join(dir, f.name), []byte(f.data), f.mode); err != nil {
			return err
		}
	}
	return nil
}

// SaveRecord rewrites only id's record (agent.json: id, cluster, NATS
// URL, proxy, pin), e.g. after the agent found its control at a new
// address.
func SaveRecord(dataDir string, id *Identity) error {
	meta, err := json.MarshalIndent(id, "", "  ")
	if err != nil {
		return err
	}
	return WriteFile(filepath.Join(Dir(dataDir), stateFile), append(meta, '\n'), 0o644)
}

// WriteFile writes data to path with mode atomically: a temp file, synced,
// renamed over path.
func WriteFile(path string, data []byte, mode os.FileMode) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(mode); err == nil {
		_, err = f.Write(data)
		if err == nil {
			err = f.Sync()
		}
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Ensure returns the identity stored under dataDir or, when there is
// none, joins through cp with req.Token and stores the result.
func Ensure(ctx context.Context, dataDir string, cp ControlPlane, req Request) (*Identity, error) {
	if dataDir == "" {
		return nil, errors.New("join: data dir is required")
	}
	id, err := Load(dataDir)
	if err == nil {
		return id, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if req.Token == "" {
		return nil, ErrNoToken
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	joined, err := cp.Join(ctx, wire.Join{Token: req.Token, Hostname: req.Hostname, PublicAddr: req.PublicAddr,
		Resources: req.Resources, PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER})),
		Version: version.Version})
	if err != nil {
		return nil, fmt.Errorf("join the cluster: %w", err)
	}
	id = &Identity{AgentID: joined.AgentID, Cluster: joined.Cluster, NATSURL: joined.NATSURL, Proxy: req.Proxy, CAPin: req.CAPin,
		CertPEM:   joined.CertPEM,
		KeyPEM:    string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})),
		HostCAPEM: joined.HostCAPEM, UserCAPEM: joined.UserCAPEM, DBCAPEM: joined.DBCAPEM}
	if _, err := id.TLSCertificate(); err != nil {
		return nil, err
	}
	if err := Save(dataDir, id); err != nil {
		return nil, err
	}
	return id, nil
}

func splitPEM(s string) []string {
	var out []string
	rest := []byte(s)
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			return out
		}
		out = append(out, string(pem.EncodeToMemory(b)))
	}
}
