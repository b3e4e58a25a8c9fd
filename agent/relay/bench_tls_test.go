package relay

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"

	"github.com/tollgate-db/tollgate/agent/auditpub"
	"github.com/tollgate-db/tollgate/agent/spool"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
)

func benchTLSConfigs(b *testing.B) (server, client *tls.Config) {
	b.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		b.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		DNSNames: []string{"localhost"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		b.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	server = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
	client = &tls.Config{RootCAs: pool, ServerName: "localhost"}
	return server, client
}

// tlsPair returns a connected TLS client and server conn over loopback.
func tlsPair(b *testing.B, sc, cc *tls.Config) (net.Conn, net.Conn) {
	b.Helper()
	c, s := tcpPair(b)
	tc, ts := tls.Client(c, cc), tls.Server(s, sc)
	errc := make(chan error, 1)
	go func() { errc <- ts.Handshake() }()
	if err := tc.Handshake(); err != nil {
		b.Fatal(err)
	}
	if err := <-errc; err != nil {
		b.Fatal(err)
	}
	return tc, ts
}

// benchTLSClients runs b.N simple-query round trips spread over clients
// connections, each client → TLS → middle → TLS → fake server.
func benchTLSClients(b *testing.B, clients int, mid func(client, server net.Conn)) {
	sc, cc := benchTLSConfigs(b)
	fes := make([]*pgproto3.Frontend, clients)
	for i := range clients {
		clientSide, agentClient := tlsPair(b, sc, cc)
		agentServer, serverSide := tlsPair(b, sc, cc)
		go fakeServer(b, serverSide)
		go mid(agentClient, agentServer)
		fes[i] = pgproto3.NewFrontend(pgproto3.NewChunkReader(bufio.NewReader(clientSide)), clientSide)
		drainReady(b, fes[i])
	}
	q := &pgproto3.Query{String: "select abalance from pgbench_accounts where aid = 42"}
	b.ReportAllocs()
	b.ResetTimer()
	var wg sync.WaitGroup
	for i, fe := range fes {
		n := b.N / clients
		if i < b.N%clients {
			n++
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range n {
				if err := fe.Send(q); err != nil {
					b.Error(err)
					return
				}
				drainReady(b, fe)
			}
		}()
	}
	wg.Wait()
	b.StopTimer()
	for _, fe := range fes {
		_ = fe.Send(&pgproto3.Terminate{})
	}
}

func drainReady(b *testing.B, fe *pgproto3.Frontend) {
	for {
		m, err := fe.Receive()
		if err != nil {
			b.Error(err)
			return
		}
		if _, ok := m.(*pgproto3.ReadyForQuery); ok {
			return
		}
	}
}

func plainCopy(c, s net.Conn) {
	go func() { _, _ = io.Copy(s, c); s.Close() }()
	_, _ = io.Copy(c, s)
	c.Close()
}

// openBenchJS starts an embedded JetStream audit stream.
func openBenchJS(b *testing.B) eventlog.Stream {
	b.Helper()
	l, err := jetstream.Open(context.Background(), jetstream.Config{DataDir: b.TempDir()})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = l.Close(context.Background()) })
	return l.Audit
}

func BenchmarkTLS(b *testing.B) {
	for _, clients := range []int{1, 8} {
		b.Run(fmt.Sprintf("copy/c%d", clients), func(b *testing.B) {
			benchTLSClients(b, clients, plainCopy)
		})
		for _, mode := range []Mode{Strict, Async} {
			for _, store := range []string{"memory", "spool"} {
				name := fmt.Sprintf("%s/jetstream-%s/c%d", map[Mode]string{Strict: "strict", Async: "async"}[mode], store, clients)
				b.Run(name, func(b *testing.B) {
					st := openBenchJS(b)
					opt := auditpub.Options{}
					var pub *auditpub.Publisher
					if store == "spool" {
						sp, err := spool.Open(b.TempDir(), spool.Options{Sync: spool.SyncInterval})
						if err != nil {
							b.Fatal(err)
						}
						defer sp.Close()
						if pub, err = auditpub.Open(st, sp, opt); err != nil {
							b.Fatal(err)
						}
					} else {
						pub = auditpub.New(st, eventlog.NewChainer(0, ""), opt)
					}
					defer func() { _ = pub.Close(context.Background()) }()
					builder := eventlog.NewBuilder("agent")
					var id int
					var mu sync.Mutex
					benchTLSClients(b, clients, func(c, s net.Conn) {
						mu.Lock()
						id++
						sid := fmt.Sprintf("s%d", id)
						mu.Unlock()
						mustNew(Config{SessionID: sid, Database: "d", User: "u", Mode: mode,
							Builder: builder, Publisher: pub}, c, nil, s).Run(context.Background())
					})
				})
			}
		}
	}
}
