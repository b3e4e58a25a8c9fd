package embedded_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	natsjs "github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
)

// authFixture is an embedded server with a TLS listener whose clients are
// authorized like control authorizes agents: a host-CA cert whose CN is a
// known agent gets AgentClient, anything else is refused.
type authFixture struct {
	srv                  *embedded.Server
	dir, caFile          string
	hostCA, userCA       *x509.Certificate
	hostCAKey, userCAKey *ecdsa.PrivateKey
	control, audit       *jetstream.Stream
}

func newAuthFixture(t *testing.T, ctx context.Context) *authFixture {
	t.Helper()
	f := &authFixture{dir: t.TempDir()}
	f.hostCA, f.hostCAKey = makeCert(t, nil, nil, "host ca", true)
	f.userCA, f.userCAKey = makeCert(t, nil, nil, "user ca", true)
	srvCert, srvKey := makeCert(t, f.hostCA, f.hostCAKey, "control", false)
	f.caFile = f.write(t, "host-ca.pem", f.hostCA.Raw, "CERTIFICATE")
	pool := x509.NewCertPool()
	pool.AddCert(f.hostCA)
	tc := &tls.Config{MinVersion: tls.VersionTLS12,
		// Per handshake, as control serves its renewable cert and the
		// host CA's current trusted bundle.
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			return &tls.Config{MinVersion: tls.VersionTLS12, ClientCAs: pool,
				Certificates: []tls.Certificate{{Certificate: [][]byte{srvCert.Raw}, PrivateKey: srvKey}}}, nil
		}}
	var err error
	f.srv, err = embedded.Start(ctx, embedded.Config{
		StoreDir: filepath.Join(f.dir, "js"), Listen: "127.0.0.1:0", TLSConfig: tc, Logger: zerolog.Nop(),
		Authorize: func(leaf *x509.Certificate) (embedded.Client, error) {
			if leaf.Subject.CommonName != "agent-1" {
				return embedded.Client{}, fmt.Errorf("%w: %q is not a joined agent", embedded.ErrRefused, leaf.Subject.CommonName)
			}
			return embedded.AgentClient(leaf.Subject.CommonName, eventlog.ControlStream, eventlog.AuditStream, eventlog.AuditPrefix), nil
		},
	})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, f.srv.Shutdown(context.Background())) })
	require.Contains(t, f.srv.ClientURL(), "tls://127.0.0.1:")

	// The process's own connection is in-process, with full rights.
	nc, err := f.srv.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := natsjs.New(nc)
	require.NoError(t, err)
	require.NoError(t, jetstream.Provision(ctx, js, jetstream.Config{}))
	f.control, err = jetstream.NewStream(ctx, js, eventlog.ControlStream)
	require.NoError(t, err)
	f.audit, err = jetstream.NewStream(ctx, js, eventlog.AuditStream)
	require.NoError(t, err)
	b := eventlog.NewBuilder("control")
	for _, u := range []string{"alice", "bob"} {
		ev, err := b.Build("user.created", 1, "admin", eventlog.ControlSubject(eventlog.KindUser, u), map[string]string{"name": u})
		require.NoError(t, err)
		_, err = f.control.Append(ctx, ev)
		require.NoError(t, err)
	}
	return f
}

func (f *authFixture) write(t *testing.T, name string, der []byte, typ string) string {
	t.Helper()
	p := filepath.Join(f.dir, name)
	require.NoError(t, os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
	return p
}

// clientFiles issues a client cert from ca and writes it with its key.
func (f *authFixture) clientFiles(t *testing.T, ca *x509.Certificate, caKey *ecdsa.PrivateKey, cn string) (certFile, keyFile string) {
	t.Helper()
	c, k := makeCert(t, ca, caKey, cn, false)
	return f.write(t, cn+".crt", c.Raw, "CERTIFICATE"), f.write(t, cn+".key", keyDER(t, k), "PRIVATE KEY")
}

func (f *authFixture) dial(opts ...nats.Option) (*nats.Conn, error) {
	opts = append(opts, nats.RootCAs(f.caFile), nats.MaxReconnects(0), nats.Timeout(10*time.Second))
	return nats.Connect(f.srv.ClientURL(), opts...)
}

func TestAgentClientPermissions(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newAuthFixture(t, ctx)
	certFile, keyFile := f.clientFiles(t, f.hostCA, f.hostCAKey, "agent-1")
	violations := make(chan error, 16)
	nc, err := f.dial(nats.ClientCert(certFile, keyFile), nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) {
		select {
		case violations <- err:
		default:
		}
	}))
	require.NoError(t, err)
	defer nc.Close()
	js, err := natsjs.New(nc)
	require.NoError(t, err)

	// Reads the control stream through the real Stream code.
	control, err := jetstream.NewStream(ctx, js, eventlog.ControlStream)
	require.NoError(t, err)
	last, err := control.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), last)
	var subjects []string
	require.NoError(t, control.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
		subjects = append(subjects, r.Event.Subject)
		return nil
	}))
	require.Equal(t, []string{eventlog.ControlSubject(eventlog.KindUser, "alice"), eventlog.ControlSubject(eventlog.KindUser, "bob")}, subjects)
	seq, err := control.LastSubjectSeq(ctx, eventlog.ControlSubject(eventlog.KindUser, "bob"))
	require.NoError(t, err)
	require.Equal(t, uint64(2), seq)

	// Publishes an audit event and gets its ack, one by one and batched.
	audit, err := jetstream.NewStream(ctx, js, eventlog.AuditStream)
	require.NoError(t, err)
	b := eventlog.NewBuilder("agent-1")
	ev, err := b.Build("session.started", 1, "alice", eventlog.AuditSubject("roach", "alice", "s1", "session.started"), map[string]string{})
	require.NoError(t, err)
	aseq, err := audit.Append(ctx, ev)
	require.NoError(t, err)
	require.Equal(t, uint64(1), aseq)
	ev2, err := b.Build("query", 1, "alice", eventlog.AuditSubject("roach", "alice", "s1", "query"), map[string]string{})
	require.NoError(t, err)
	raw, err := json.Marshal(ev2)
	require.NoError(t, err)
	require.NoError(t, audit.AppendEncoded(ctx, []eventlog.Event{ev2}, [][]byte{raw}))
	last, err = f.audit.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), last)

	// No control events, no message delete, purge, stream delete or
	// update, no consumer listing. A denied request is dropped by the
	// server (it reports a permission violation), so each waits for its
	// own short deadline.
	denied := func(name string, op func(ctx context.Context) error) {
		dctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		require.Error(t, op(dctx), name)
	}
	ctl, err := b.Build("role.created", 1, "agent-1", eventlog.ControlSubject(eventlog.KindRole, "admin"), map[string]string{})
	require.NoError(t, err)
	st := control.JetStream()
	denied("control append", func(ctx context.Context) error { _, err := control.Append(ctx, ctl); return err })
	denied("delete msg", func(ctx context.Context) error { return st.DeleteMsg(ctx, 1) })
	denied("secure delete audit msg", func(ctx context.Context) error { return audit.JetStream().SecureDeleteMsg(ctx, 1) })
	denied("purge", func(ctx context.Context) error { return st.Purge(ctx) })
	denied("delete stream", func(ctx context.Context) error { return js.DeleteStream(ctx, eventlog.AuditStream) })
	denied("provision", func(ctx context.Context) error { return jetstream.Provision(ctx, js, jetstream.Config{}) })
	denied("create stream", func(ctx context.Context) error {
		_, err := js.CreateStream(ctx, natsjs.StreamConfig{Name: "EVIL", Subjects: []string{"evil.>"}})
		return err
	})
	denied("list consumers", func(ctx context.Context) error {
		l := st.ListConsumers(ctx)
		for range l.Info() {
			return nil
		}
		return l.Err()
	})
	// Nothing was lost: the in-process view is unchanged.
	last, err = f.control.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), last)
	last, err = f.audit.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), last)
	require.Eventually(t, func() bool { return len(violations) > 0 }, 10*time.Second, 10*time.Millisecond,
		"the server reports permission violations")
	require.ErrorContains(t, <-violations, "Permissions Violation")
}

func TestListenerRefusesOtherClients(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newAuthFixture(t, ctx)

	_, err := f.dial()
	require.Error(t, err, "a client without a certificate is refused")

	certFile, keyFile := f.clientFiles(t, f.userCA, f.userCAKey, "agent-1")
	_, err = f.dial(nats.ClientCert(certFile, keyFile))
	require.Error(t, err, "a user-CA cert is refused, even with an agent's name")

	certFile, keyFile = f.clientFiles(t, f.hostCA, f.hostCAKey, "stranger")
	_, err = f.dial(nats.ClientCert(certFile, keyFile))
	require.Error(t, err, "a host cert of no joined agent is refused")
	require.ErrorIs(t, err, nats.ErrAuthorization)

	// A wrong in-process token is refused too (the server's own token is
	// only in this process).
	_, err = nats.Connect("", nats.InProcessServer(f.srv.NATS()), nats.Token("guess"), nats.MaxReconnects(0))
	require.Error(t, err)
	_, err = nats.Connect("", nats.InProcessServer(f.srv.NATS()), nats.MaxReconnects(0))
	require.Error(t, err)
}

// An agent may create consumers with any configuration; a push consumer
// delivering its own audit message onto a control subject must not put
// it into the control stream.
func TestAgentCannotForwardIntoControl(t *testing.T) {
	t.Parallel()
	ctx := ctxT(t)
	f := newAuthFixture(t, ctx)
	certFile, keyFile := f.clientFiles(t, f.hostCA, f.hostCAKey, "agent-1")
	nc, err := f.dial(nats.ClientCert(certFile, keyFile))
	require.NoError(t, err)
	defer nc.Close()
	js, err := natsjs.New(nc)
	require.NoError(t, err)
	subj := eventlog.AuditSubject("x", "y", "z", "query")
	_, err = js.Publish(ctx, subj, []byte(`{"type":"role.created","source":"control"}`))
	require.NoError(t, err)
	create := func(deliver string) {
		req := fmt.Sprintf(`{"stream_name":%q,"config":{"deliver_subject":%q,"filter_subject":%q,"ack_policy":"none","deliver_policy":"all"}}`,
			eventlog.AuditStream, deliver, subj)
		resp, err := nc.RequestWithContext(ctx, "$JS.API.CONSUMER.CREATE."+eventlog.AuditStream, []byte(req))
		require.NoError(t, err)
		require.NotContains(t, string(resp.Data), `"error"`)
	}
	// A probe push consumer shows deliveries happen at all.
	own, err := f.srv.Connect()
	require.NoError(t, err)
	defer own.Close()
	probe, err := own.SubscribeSync("probe.x")
	require.NoError(t, err)
	require.NoError(t, own.Flush())
	create(eventlog.ControlSubject(eventlog.KindRole, "admin"))
	create("probe.x")
	_, err = probe.NextMsgWithContext(ctx)
	require.NoError(t, err)
	last, err := f.control.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), last)
}
