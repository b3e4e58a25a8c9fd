package nodetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/auditpub"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// Agent is an agent joined to a node's control with a token and a host
// key of its own, writing audit events through the agent's real audit
// publisher and checkpointer — without a gateway or a database: for tests
// of what reads the audit log.
type Agent struct {
	ID   string
	Cert *tls.Certificate
	Pub  *auditpub.Publisher
	CK   *auditpub.Checkpointer
	b    *eventlog.Builder
	t    testing.TB
	done bool
}

// JoinAgent joins an agent named hostname and opens its publisher on the
// node's audit stream (a new chain).
func (n *Node) JoinAgent(t testing.TB, hostname string) *Agent {
	t.Helper()
	ctx := context.Background()
	admin := control.Caller{Kind: control.CallerUser, Name: control.AdminUser}
	tok, err := n.Env.Control.Tokens().Add(ctx, admin, wire.TokenAdd{Type: control.TokenTypeDB})
	require.NoError(t, err)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pub, err := x509.MarshalPKIXPublicKey(key.Public())
	require.NoError(t, err)
	joined, err := n.Env.Control.Agents().Join(ctx, wire.Join{Token: tok.Value, Hostname: hostname,
		PublicKeyPEM: string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub})), Version: control.Version}, "nodetest")
	require.NoError(t, err)
	block, _ := pem.Decode([]byte(joined.CertPEM))
	require.NotNil(t, block)
	leaf, err := x509.ParseCertificate(block.Bytes)
	require.NoError(t, err)
	a := &Agent{ID: joined.AgentID, Cert: &tls.Certificate{Certificate: [][]byte{block.Bytes}, PrivateKey: key, Leaf: leaf},
		b: eventlog.NewBuilder(joined.AgentID), t: t}
	a.CK, err = auditpub.NewCheckpointer(auditpub.CheckpointOptions{Builder: a.b, Cert: func() *tls.Certificate { return a.Cert }})
	require.NoError(t, err)
	a.Pub = auditpub.New(n.Env.Log.Audit, a.CK.Wrap(eventlog.NewChainer(0, "")), auditpub.Options{})
	t.Cleanup(a.Close)
	return a
}

// Session writes one session of user on db, as the relay does: started,
// each statement's query and query.result, ended; then the checkpoint the
// agent writes at session end.
func (a *Agent) Session(id, user, db string, statements ...string) {
	a.t.Helper()
	ctx := context.Background()
	pub := func(typ string, data any) {
		a.t.Helper()
		ev, err := a.b.Build(typ, 1, user, eventlog.AuditSubject(db, user, id, typ), data)
		require.NoError(a.t, err)
		require.NoError(a.t, a.Pub.PublishSync(ctx, []eventlog.Event{ev}))
	}
	pub(schemas.TypeSessionStarted, schemas.SessionStarted{SessionID: id, User: user, Database: db, DBUser: user, DBName: "bank",
		Protocol: schemas.ProtocolPostgres, ClientAddr: "192.0.2.1:5000", AgentID: a.ID})
	for i, s := range statements {
		pub(schemas.TypeQuery, schemas.Query{SessionID: id, N: uint64(i + 1), Kind: "simple", Statement: s})
		pub(schemas.TypeQueryResult, schemas.QueryResult{SessionID: id, N: uint64(i + 1), Status: "ok", CommandTag: "SELECT 1", Rows: 1})
	}
	pub(schemas.TypeSessionEnded, schemas.SessionEnded{SessionID: id, Reason: schemas.EndClient, Queries: uint64(len(statements))})
	require.NoError(a.t, a.CK.Checkpoint(ctx, a.Pub, schemas.CheckpointSessionEnd))
}

// Close writes the shutdown checkpoint (when the head moved) and closes
// the publisher, as a stopping agent does. It is idempotent.
func (a *Agent) Close() {
	if a.done {
		return
	}
	a.done = true
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := a.CK.Checkpoint(ctx, a.Pub, schemas.CheckpointShutdown); err != nil {
		a.t.Errorf("agent %s: shutdown checkpoint: %v", a.ID, err)
	}
	if err := a.Pub.Close(ctx); err != nil {
		a.t.Errorf("agent %s: close publisher: %v", a.ID, err)
	}
}
