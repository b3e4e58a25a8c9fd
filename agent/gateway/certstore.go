package gateway

import (
	"crypto"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/agent/join"
)

// The db_client certs an agent caches are also kept in its identity dir
// (0600, one file each), so that an agent restarted while control is out
// of reach — a leaf agent during a cut — still connects new sessions to
// its databases with the certs it had, until they expire. A file is
// written when a cert is cached and removed when the cache drops it.

// certDirName is the dir, under the agent's identity dir, of the cached
// db_client certs.
const certDirName = "db-client-certs"

type storedCert struct {
	DBUser  string `json:"db_user"`
	DB      string `json:"db"`
	CAKey   string `json:"ca_key"`
	CertPEM string `json:"cert_pem"`
	KeyPEM  string `json:"key_pem"`
}

func (k certKey) file(dir string) string {
	h := sha256.Sum256([]byte(k.dbUser + "\x00" + k.db + "\x00" + k.caKey))
	return filepath.Join(dir, hex.EncodeToString(h[:12])+".json")
}

// save keeps the cached cert of k on disk (no dir: nothing).
func (c *clientCerts) save(k certKey, cert *tls.Certificate) error {
	if c.dir == "" {
		return nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(cert.PrivateKey)
	if err != nil {
		return err
	}
	b, err := json.Marshal(storedCert{DBUser: k.dbUser, DB: k.db, CAKey: k.caKey,
		CertPEM: string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: cert.Certificate[0]})),
		KeyPEM:  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))})
	if err != nil {
		return err
	}
	if err := os.MkdirAll(c.dir, 0o700); err != nil {
		return err
	}
	return join.WriteFile(k.file(c.dir), b, 0o600)
}

// forget removes k's file.
func (c *clientCerts) forget(k certKey) {
	if c.dir != "" {
		_ = os.Remove(k.file(c.dir))
	}
}

// load fills the cache from disk, once; expired or unreadable files are
// removed.
func (c *clientCerts) load(now time.Time) {
	c.loadOnce.Do(func() {
		if c.dir == "" {
			return
		}
		names, _ := filepath.Glob(filepath.Join(c.dir, "*.json"))
		for _, name := range names {
			k, e, err := readStoredCert(name)
			if err != nil || e.notAfter.Sub(now) <= certMargin || k.file(c.dir) != name {
				_ = os.Remove(name)
				continue
			}
			c.mu.Lock()
			if c.m == nil {
				c.m = map[certKey]certEntry{}
			}
			c.m[k] = e
			c.mu.Unlock()
		}
	})
}

func readStoredCert(name string) (certKey, certEntry, error) {
	b, err := os.ReadFile(name)
	if err != nil {
		return certKey{}, certEntry{}, err
	}
	var s storedCert
	if err := json.Unmarshal(b, &s); err != nil {
		return certKey{}, certEntry{}, err
	}
	pair, err := tls.X509KeyPair([]byte(s.CertPEM), []byte(s.KeyPEM))
	if err != nil {
		return certKey{}, certEntry{}, err
	}
	leaf, err := x509.ParseCertificate(pair.Certificate[0])
	if err != nil {
		return certKey{}, certEntry{}, err
	}
	if _, ok := pair.PrivateKey.(crypto.Signer); !ok || strings.TrimSpace(s.CAKey) == "" {
		return certKey{}, certEntry{}, errors.New("not a cached db_client cert")
	}
	pair.Leaf = leaf
	return certKey{dbUser: s.DBUser, db: s.DB, caKey: s.CAKey}, certEntry{cert: &pair, notAfter: leaf.NotAfter}, nil
}
