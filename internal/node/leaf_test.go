package node_test

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node"
	"github.com/tollgate-db/tollgate/internal/testio"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestLeafAgentIsSourcedAndMirrors: an agent with db_service.audit_leaf
// joins control, runs its own JetStream as a leaf node of control's leaf
// listener, and control makes its audit stream source the agent's: an
// event the agent appends locally is in control's audit stream, once; a
// role control creates is in the agent's control mirror.
func TestLeafAgentIsSourcedAndMirrors(t *testing.T) {
	t.Parallel()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	leafAddr := freeAddr(t)
	c := newCluster(t, func(cfg *config.Config) { cfg.NATS.LeafListenAddr = leafAddr })
	cfg := agentConfig(t, c.token, c.n.Addr, c.pin, t.TempDir())
	cfg.Agent.DBService.AuditLeaf.HubURL = "tls://" + leafAddr
	cfg.Agent.DBService.AuditLeaf.HubDomain = "tollgate"
	cfg.Agent.DBService.AuditLeaf.MaxBytes = 1 << 20
	require.NoError(t, cfg.Validate())

	logs := &testio.Buffer{}
	actx, stop := context.WithCancel(ctx)
	ready := make(chan *node.Env, 1)
	done := make(chan error, 1)
	go func() {
		done <- node.Run(actx, cfg, zerolog.New(logs), node.Options{Agent: node.AgentOptions{Hostname: "leaf1"},
			Ready: func(env *node.Env) { ready <- env }})
	}()
	var env *node.Env
	select {
	case env = <-ready:
	case err := <-done:
		t.Fatalf("agent did not start: %v\n%s", err, logs)
	}
	defer func() { stop(); require.NoError(t, <-done) }()
	require.NotNil(t, env.Log.Hub, "a leaf agent's log")
	require.DirExists(t, filepath.Join(cfg.DataDir, "leaf-jetstream", "jetstream"), logs.String())

	hub := c.n.Env.Log
	require.Eventually(t, func() bool {
		st, err := hub.JS.Stream(ctx, eventlog.AuditStream)
		if err != nil {
			return false
		}
		for _, s := range st.CachedInfo().Config.Sources {
			if s.External != nil && s.External.APIPrefix == jetstream.HubAPIPrefix(jetstream.LeafDomain(env.Agent.AgentID())) {
				return true
			}
		}
		return false
	}, time.Minute, 50*time.Millisecond, "control's audit stream sources the leaf agent\n%s", logs)

	ev := eventlog.Event{ID: "leaf-test-1", Type: schemas.TypeAuditCheckpoint, Source: "probe", Actor: "probe",
		Time: time.Unix(1700000000, 0).UTC(), Subject: eventlog.AuditSubject("", "", "probe", schemas.TypeAuditCheckpoint),
		Data: []byte(`{"reason":"probe"}`)}
	_, err := env.Log.Audit.Append(ctx, ev)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		n := 0
		require.NoError(t, hub.Audit.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
			if r.Event.ID == ev.ID {
				n++
			}
			return nil
		}))
		return n == 1
	}, time.Minute, 50*time.Millisecond, "the agent's event is in control's audit stream once")

	_, err = c.n.Env.Control.Roles().Create(ctx, admin, schemas.Role{Name: "leafcheck",
		Spec: schemas.RoleSpec{Allow: schemas.RoleConditions{DBUsers: []string{"a"}}}})
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		seq, err := env.Log.Control.LastSubjectSeq(ctx, eventlog.ControlSubject(eventlog.KindRole, "leafcheck"))
		return err == nil && seq > 0
	}, time.Minute, 50*time.Millisecond, "the role reaches the agent's mirror")
	require.Contains(t, logs.String(), "audit is durable in this agent's own JetStream")
}
