package embedded_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog/embedded"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestInProcessPersists(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	dir := t.TempDir()
	srv, err := embedded.Start(ctx, embedded.Config{StoreDir: dir})
	require.NoError(t, err)
	require.Empty(t, srv.ClientURL())
	nc, err := srv.Connect()
	require.NoError(t, err)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}, Storage: jetstream.FileStorage})
	require.NoError(t, err)
	ack, err := js.Publish(ctx, "s.one", []byte("hello"))
	require.NoError(t, err)
	require.Equal(t, uint64(1), ack.Sequence)
	nc.Close()
	require.NoError(t, srv.Shutdown(ctx))

	srv, err = embedded.Start(ctx, embedded.Config{StoreDir: dir})
	require.NoError(t, err)
	defer func() { require.NoError(t, srv.Shutdown(ctx)) }()
	nc, err = srv.Connect()
	require.NoError(t, err)
	defer nc.Close()
	js, err = jetstream.New(nc)
	require.NoError(t, err)
	st, err := js.Stream(ctx, "S")
	require.NoError(t, err)
	msg, err := st.GetMsg(ctx, 1)
	require.NoError(t, err)
	require.Equal(t, "hello", string(msg.Data))
}

func TestStartErrors(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	_, err := embedded.Start(ctx, embedded.Config{})
	require.ErrorContains(t, err, "StoreDir is required")
	_, err = embedded.Start(ctx, embedded.Config{StoreDir: t.TempDir(), Listen: "nonsense"})
	require.ErrorContains(t, err, "listen address")
	_, err = embedded.Start(ctx, embedded.Config{StoreDir: t.TempDir(), Listen: "127.0.0.1:0", TLSCertFile: "x"})
	require.ErrorContains(t, err, "cert, key and CA")
}

func TestTLSClientCert(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	dir := t.TempDir()
	ca, caKey := makeCert(t, nil, nil, "test ca", true)
	srvCert, srvKey := makeCert(t, ca, caKey, "localhost", false)
	cliCert, cliKey := makeCert(t, ca, caKey, "client", false)
	write := func(name string, der []byte, typ string) string {
		p := filepath.Join(dir, name)
		require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
		return p
	}
	caFile := write("ca.pem", ca.Raw, "CERTIFICATE")
	srv, err := embedded.Start(ctx, embedded.Config{
		StoreDir:    filepath.Join(dir, "js"),
		Listen:      "127.0.0.1:0",
		TLSCertFile: write("srv.pem", srvCert.Raw, "CERTIFICATE"),
		TLSKeyFile:  write("srv.key", keyDER(t, srvKey), "PRIVATE KEY"),
		TLSCAFile:   caFile,
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, srv.Shutdown(ctx)) }()
	require.Contains(t, srv.ClientURL(), "tls://127.0.0.1:")

	certFile := write("cli.pem", cliCert.Raw, "CERTIFICATE")
	keyFile := write("cli.key", keyDER(t, cliKey), "PRIVATE KEY")
	nc, err := nats.Connect(srv.ClientURL(), nats.ClientCert(certFile, keyFile), nats.RootCAs(caFile), nats.MaxReconnects(0))
	require.NoError(t, err)
	require.NoError(t, nc.Flush())
	nc.Close()

	_, err = nats.Connect(srv.ClientURL(), nats.RootCAs(caFile), nats.MaxReconnects(0), nats.Timeout(5*time.Second))
	require.Error(t, err, "a client without a certificate is refused")

	// A *tls.Config works too.
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv2, err := embedded.Start(ctx, embedded.Config{
		StoreDir: filepath.Join(dir, "js2"),
		Listen:   "127.0.0.1:0",
		TLSConfig: &tls.Config{
			Certificates: []tls.Certificate{{Certificate: [][]byte{srvCert.Raw}, PrivateKey: srvKey}},
			ClientCAs:    pool,
			MinVersion:   tls.VersionTLS12,
		},
	})
	require.NoError(t, err)
	defer func() { require.NoError(t, srv2.Shutdown(ctx)) }()
	nc, err = nats.Connect(srv2.ClientURL(), nats.ClientCert(certFile, keyFile), nats.RootCAs(caFile), nats.MaxReconnects(0))
	require.NoError(t, err)
	nc.Close()
}

func makeCert(t *testing.T, parent *x509.Certificate, parentKey *ecdsa.PrivateKey, cn string, isCA bool) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
		IsCA:         isCA, BasicConstraintsValid: true,
	}
	if !isCA {
		tmpl.DNSNames = []string{"localhost"}
		tmpl.IPAddresses = []net.IP{net.ParseIP("127.0.0.1")}
	}
	if parent == nil {
		parent, parentKey = tmpl, key
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, parent, &key.PublicKey, parentKey)
	require.NoError(t, err)
	c, err := x509.ParseCertificate(der)
	require.NoError(t, err)
	return c, key
}

func keyDER(t *testing.T, k *ecdsa.PrivateKey) []byte {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	require.NoError(t, err)
	return der
}
