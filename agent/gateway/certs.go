package gateway

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"sync"
	"time"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// certMargin: a cached db_client cert is reused only while it has more
// than this left.
const certMargin = 2 * time.Minute

type certEntry struct {
	cert     *tls.Certificate
	notAfter time.Time
}

// certKey is a cache slot: the db user, the database and the db_client CA
// key that signed the cert. A rotation that moves client certs to another
// key (update_clients; rollback) makes every cached cert of the old key a
// miss, so once the databases drop the old CA no session presents one.
type certKey struct {
	dbUser, db, caKey string
}

// clientCerts caches db_client certs per db user, database and CA key.
type clientCerts struct {
	g *Gateway
	// dir keeps the cached certs on disk (certstore.go); "" none.
	dir      string
	loadOnce sync.Once
	mu       sync.Mutex
	m        map[certKey]certEntry
	// cas are the parsed db_client CA certs by key id (to tell which key
	// signed a cert control issued).
	cas map[string]*x509.Certificate
}

// signer is the db_client CA key that signs client certs now, from the
// agent's projection, and the CA keys it knows (current and next).
func (c *clientCerts) signer() (string, []projections.CAKey) {
	var (
		id   string
		keys []projections.CAKey
	)
	c.g.state.view(func(st *projections.State) {
		ca, ok := st.CAs[schemas.CADBClient]
		if !ok {
			return
		}
		id = ca.SigningKey().KeyID
		keys = append(keys, ca.Active)
		if ca.Next != nil {
			keys = append(keys, *ca.Next)
		}
	})
	return id, keys
}

// issuer is the id of the key among keys that signed leaf ("" if none).
func (c *clientCerts) issuer(leaf *x509.Certificate, keys []projections.CAKey) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, k := range keys {
		ca, ok := c.cas[k.KeyID]
		if !ok {
			block, _ := pem.Decode([]byte(k.CertPEM))
			if block == nil {
				continue
			}
			var err error
			if ca, err = x509.ParseCertificate(block.Bytes); err != nil {
				continue
			}
			if c.cas == nil {
				c.cas = map[string]*x509.Certificate{}
			}
			c.cas[k.KeyID] = ca
		}
		if leaf.CheckSignatureFrom(ca) == nil {
			return k.KeyID
		}
	}
	return ""
}

// retain drops every cached cert not signed by key (the key that signs
// now), after a db_client CA rotation event.
func (c *clientCerts) retain(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k := range c.m {
		if k.caKey != key {
			delete(c.m, k)
			c.forget(k)
		}
	}
	for id := range c.cas {
		if id != key {
			delete(c.cas, id)
		}
	}
}

// rotated flushes the certs of keys that no longer sign (stateFollower
// calls it after each CA event).
func (c *clientCerts) rotated() {
	if key, _ := c.signer(); key != "" {
		c.retain(key)
	}
}

// get returns a db_client cert for dbUser on database db valid no later
// than notAfter (the user's cert expiry), signed by the key the db_client
// CA signs with now.
func (c *clientCerts) get(ctx context.Context, dbUser, db, forUser string, notAfter time.Time) (*tls.Certificate, error) {
	now := time.Now()
	c.load(now)
	signing, keys := c.signer()
	k := certKey{dbUser: dbUser, db: db, caKey: signing}
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok && !e.notAfter.After(notAfter) && e.notAfter.Sub(now) > certMargin {
		return e.cert, nil
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	pubDER, err := x509.MarshalPKIXPublicKey(key.Public())
	if err != nil {
		return nil, err
	}
	res, err := c.g.deps.Control.DBClientCert(ctx, c.g.id.AgentID, wire.DBClientCertRequest{DBUser: dbUser, Database: db,
		ForUser: forUser, NotAfter: notAfter, PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pubDER}))})
	if err != nil {
		return nil, fmt.Errorf("get a db_client cert: %w", err)
	}
	block, _ := pem.Decode([]byte(res.CertPEM))
	if block == nil {
		return nil, fmt.Errorf("db_client cert from control holds no PEM")
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("db_client cert from control: %w", err)
	}
	cert := &tls.Certificate{Certificate: [][]byte{block.Bytes}, PrivateKey: key, Leaf: leaf}
	// Cached under the key that really signed it: when control is ahead of
	// this agent's projection (it signs with a key the agent does not see
	// signing yet), the cert serves this session and is not cached.
	if k.caKey = c.issuer(leaf, keys); k.caKey == "" || k.caKey != signing {
		return cert, nil
	}
	c.mu.Lock()
	if c.m == nil {
		c.m = map[certKey]certEntry{}
	}
	stored := false
	if old, ok := c.m[k]; !ok || leaf.NotAfter.After(old.notAfter) || old.notAfter.Sub(now) <= certMargin {
		c.m[k] = certEntry{cert: cert, notAfter: leaf.NotAfter}
		stored = true
	}
	c.mu.Unlock()
	if stored {
		if err := c.save(k, cert); err != nil {
			c.g.log.Warn().Err(err).Msg("keep the db_client cert on disk (a restart without control will need a new one)")
		}
	}
	return cert, nil
}
