package profile

import (
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// EnvHome overrides the default home of toll's profile.
const EnvHome = "TOLLGATE_HOME"

// File names inside a profile directory.
const (
	MetaFile = "profile.json"
	CertFile = "user.crt"
	KeyFile  = "user.key"
	CAsFile  = "host-cas.pem"
)

// ErrNotFound means there is no profile in the directory.
var ErrNotFound = errors.New("no tollgate identity found")

// Profile is one identity.
type Profile struct {
	// Dir is where the profile lives (not stored).
	Dir string `json:"-"`
	// Proxy is control's HOST:PORT, or a comma-separated list of them
	// (several controls of one cluster, tried in order). It is stored as
	// "proxy", the first address (what profiles held before there could
	// be several), and, when there are several, as the list "proxies".
	Proxy   string `json:"-"`
	User    string `json:"user"`
	Cluster string `json:"cluster,omitempty"`
	// CAPin is the pin of the host CA the cluster was first trusted with.
	CAPin string `json:"ca_pin,omitempty"`

	CertPEM   []byte `json:"-"`
	KeyPEM    []byte `json:"-"`
	HostCAPEM []byte `json:"-"`
}

// Home returns TOLLGATE_HOME or ~/.tollgate.
func Home() (string, error) {
	if h := os.Getenv(EnvHome); h != "" {
		return h, nil
	}
	d, err := os.UserHomeDir()
	if err != nil {
		return "", fmt.Errorf("find home directory: %w (set %s)", err, EnvHome)
	}
	return filepath.Join(d, ".tollgate"), nil
}

// Save writes the profile into p.Dir.
func (p *Profile) Save() error {
	if p.Dir == "" {
		return errors.New("profile: no directory")
	}
	if err := os.MkdirAll(p.Dir, 0o700); err != nil {
		return fmt.Errorf("create %s: %w", p.Dir, err)
	}
	meta, err := json.MarshalIndent(p, "", "  ")
	if err != nil {
		return err
	}
	for name, data := range map[string][]byte{CertFile: p.CertPEM, KeyFile: p.KeyPEM, CAsFile: p.HostCAPEM} {
		if err := WriteFile(filepath.Join(p.Dir, name), data); err != nil {
			return err
		}
	}
	return WriteFile(filepath.Join(p.Dir, MetaFile), append(meta, '\n'))
}

// WriteFile writes data with mode 0600 atomically (temp file + rename).
func WriteFile(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// Load reads the profile in dir.
func Load(dir string) (*Profile, error) {
	meta, err := os.ReadFile(filepath.Join(dir, MetaFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w in %s", ErrNotFound, dir)
	}
	if err != nil {
		return nil, fmt.Errorf("read profile: %w", err)
	}
	p := &Profile{Dir: dir}
	if err := json.Unmarshal(meta, p); err != nil {
		return nil, fmt.Errorf("read %s: %w", filepath.Join(dir, MetaFile), err)
	}
	for name, dst := range map[string]*[]byte{CertFile: &p.CertPEM, KeyFile: &p.KeyPEM, CAsFile: &p.HostCAPEM} {
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			return nil, fmt.Errorf("read profile: %w", err)
		}
		*dst = b
	}
	return p, nil
}

// Remove deletes the profile's files (not other files in Dir).
func (p *Profile) Remove() error {
	var errs []error
	for _, name := range []string{MetaFile, CertFile, KeyFile, CAsFile} {
		if err := os.Remove(filepath.Join(p.Dir, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Certificate parses the user cert.
func (p *Profile) Certificate() (*x509.Certificate, error) {
	block, _ := pem.Decode(p.CertPEM)
	if block == nil {
		return nil, errors.New("profile: user.crt holds no certificate")
	}
	return x509.ParseCertificate(block.Bytes)
}

// Expired reports whether the user cert has expired at now.
func (p *Profile) Expired(now time.Time) bool {
	c, err := p.Certificate()
	return err != nil || !now.Before(c.NotAfter)
}

// TLSConfig is a client TLS config presenting the user cert and trusting
// only the profile's host CAs (TLS 1.3).
func (p *Profile) TLSConfig() (*tls.Config, error) {
	pair, err := tls.X509KeyPair(p.CertPEM, p.KeyPEM)
	if err != nil {
		return nil, fmt.Errorf("load identity in %s: %w", p.Dir, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(p.HostCAPEM) {
		return nil, fmt.Errorf("load identity in %s: %s holds no CA certificate", p.Dir, CAsFile)
	}
	return &tls.Config{MinVersion: tls.VersionTLS13, Certificates: []tls.Certificate{pair}, RootCAs: pool}, nil
}
