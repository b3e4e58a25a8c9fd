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
)

// certMargin: a cached db_client cert is reused only while it has more
// than this left.
const certMargin = 2 * time.Minute

type certEntry struct {
	cert     *tls.Certificate
	notAfter time.Time
}

// clientCerts caches db_client certs per db user and database.
type clientCerts struct {
	g  *Gateway
	mu sync.Mutex
	m  map[[2]string]certEntry
}

// get returns a db_client cert for dbUser on database db valid no later
// than notAfter (the user's cert expiry).
func (c *clientCerts) get(ctx context.Context, dbUser, db, forUser string, notAfter time.Time) (*tls.Certificate, error) {
	now := time.Now()
	k := [2]string{dbUser, db}
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
	c.mu.Lock()
	if c.m == nil {
		c.m = map[[2]string]certEntry{}
	}
	if old, ok := c.m[k]; !ok || leaf.NotAfter.After(old.notAfter) || old.notAfter.Sub(now) <= certMargin {
		c.m[k] = certEntry{cert: cert, notAfter: leaf.NotAfter}
	}
	c.mu.Unlock()
	return cert, nil
}
