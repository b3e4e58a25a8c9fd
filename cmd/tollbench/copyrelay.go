package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// copyRelay is the reference a gateway is measured against besides the
// direct connection: a bare Go TLS-terminating relay (SSLRequest on both
// sides, then io.Copy each way, no framing, no audit) — DESIGN §9's
// "naive Go relay … bare copy".
type copyRelay struct {
	ln       net.Listener
	caFile   string
	upstream string
	upTLS    *tls.Config
	// The relay's self-signed cert and key (pgbouncer reuses them).
	certPEM []byte
	key     *ecdsa.PrivateKey
}

var sslRequest = []byte{0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f}

func startCopyRelay(ctx context.Context, dir, upstream string, upTLS *tls.Config) (*copyRelay, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "tollbench copy relay"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	r := &copyRelay{caFile: filepath.Join(dir, "copy-relay.crt"), upstream: upstream, upTLS: upTLS,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), key: key}
	if err := os.WriteFile(r.caFile, r.certPEM, 0o600); err != nil {
		return nil, err
	}
	srvTLS := &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	if r.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	go func() {
		<-ctx.Done()
		r.ln.Close()
	}()
	go func() {
		for {
			c, err := r.ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c, srvTLS)
		}
	}()
	return r, nil
}

func (r *copyRelay) port() string {
	_, p, _ := net.SplitHostPort(r.ln.Addr().String())
	return p
}

func (r *copyRelay) serve(c net.Conn, srvTLS *tls.Config) {
	defer c.Close()
	var req [8]byte
	if _, err := io.ReadFull(c, req[:]); err != nil || string(req[:]) != string(sslRequest) {
		return
	}
	if _, err := c.Write([]byte{'S'}); err != nil {
		return
	}
	client := tls.Server(c, srvTLS)
	if err := client.Handshake(); err != nil {
		return
	}
	server, err := r.dialUpstream()
	if err != nil {
		return
	}
	defer server.Close()
	go func() {
		_, _ = io.Copy(server, client)
		server.Close()
	}()
	_, _ = io.Copy(client, server)
}

func (r *copyRelay) dialUpstream() (net.Conn, error) {
	s, err := net.DialTimeout("tcp", r.upstream, 10*time.Second)
	if err != nil {
		return nil, err
	}
	var resp [1]byte
	if _, err := s.Write(sslRequest); err != nil {
		s.Close()
		return nil, err
	}
	if _, err := io.ReadFull(s, resp[:]); err != nil || resp[0] != 'S' {
		s.Close()
		return nil, errors.Join(err, fmt.Errorf("server declined TLS"))
	}
	t := tls.Client(s, r.upTLS)
	if err := t.Handshake(); err != nil {
		s.Close()
		return nil, err
	}
	return t, nil
}

// directTLS is the client TLS config of the direct rows (the db_client
// cert, the db CA).
func directTLS(c *cluster) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(c.directCert, c.dirKey)
	if err != nil {
		return nil, err
	}
	ca, err := os.ReadFile(c.dbCA)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(ca) {
		return nil, fmt.Errorf("no CA cert in %s", c.dbCA)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool, ServerName: "127.0.0.1"}, nil
}
