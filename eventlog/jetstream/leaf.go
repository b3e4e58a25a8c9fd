package jetstream

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
)

// DefaultLeafMaxBytes bounds a leaf agent's local audit stream.
const DefaultLeafMaxBytes = 1 << 30

// DefaultLeafSync is how often a leaf agent's JetStream flushes its files
// to stable storage: as the spool's default (db_service.spool_sync:
// interval), a power loss loses at most this much of what the hub has not
// taken; Embedded.SyncAlways flushes after every write.
const DefaultLeafSync = 100 * time.Millisecond

// DefaultLeafPing is how often a leaf agent's server pings its hub: a cut
// link is noticed after three unanswered pings, and the leaf reconnects
// when it is back.
const DefaultLeafPing = 5 * time.Second

// LeafConfig is the event log of a leaf agent (OpenLeaf): a NATS server of
// its own, with JetStream in Domain, connected to the hub as a leaf node.
type LeafConfig struct {
	// Config names the streams and bounds their events; its DataDir holds
	// the local server's files (DataDir/leaf-jetstream).
	Config
	// Domain is the local JetStream's domain, HubDomain the hub's.
	Domain, HubDomain string
	// Hub is the leaf-node connection to the hub.
	Hub embedded.LeafRemote
	// MaxBytes bounds the local audit stream (default DefaultLeafMaxBytes):
	// events the hub has not taken yet, when it is full further appends
	// fail (ErrLocalFull) and nothing older is dropped.
	MaxBytes int64
}

// ErrLocalFull means a leaf agent's local audit stream holds MaxBytes of
// events the hub has not taken yet.
var ErrLocalFull = errors.New("the local audit stream is full: the hub has not taken its events yet")

// HubAPIPrefix is the JetStream API prefix of domain across leaf nodes.
func HubAPIPrefix(domain string) string { return "$JS." + domain + ".API" }

// LeafStreamConfigs are a leaf agent's local streams: the control stream
// as a mirror of the hub's, and the audit stream as the durable buffer the
// hub sources (same subjects, discard new at MaxBytes, no deletes; purges
// allowed: the agent drops what the hub has stored, see Trim).
func (c LeafConfig) LeafStreamConfigs() (control, audit jetstream.StreamConfig) {
	control, audit = c.Config.StreamConfigs()
	control.Subjects = nil
	control.Description = "Tollgate control events: a mirror of the hub's"
	control.Mirror = &jetstream.StreamSource{Name: control.Name,
		External: &jetstream.ExternalStream{APIPrefix: HubAPIPrefix(c.HubDomain)}}
	control.Replicas, audit.Replicas = 1, 1
	audit.Description = "Tollgate audit events of this agent, until the hub has sourced them"
	audit.Discard = jetstream.DiscardNew
	audit.MaxBytes = c.MaxBytes
	if audit.MaxBytes <= 0 {
		audit.MaxBytes = DefaultLeafMaxBytes
	}
	audit.MaxAge = 0
	audit.DenyPurge = false
	return control, audit
}

// OpenLeaf starts the local server, connects it to the hub, provisions the
// local streams and opens them: Log.Control reads the mirror, Log.Audit
// appends to the local audit stream, Log.Hub is the hub's JetStream
// across the leaf node (for Trim). The hub need not be reachable.
func OpenLeaf(ctx context.Context, lc LeafConfig) (*Log, error) {
	if lc.Domain == "" || lc.HubDomain == "" || lc.Domain == lc.HubDomain {
		return nil, fmt.Errorf("open leaf event log: the local domain %q and the hub's %q must be set and differ", lc.Domain, lc.HubDomain)
	}
	if lc.DataDir == "" {
		return nil, errors.New("open leaf event log: DataDir is required")
	}
	lc.Config = lc.WithDefaults()
	ec := lc.Embedded
	ec.StoreDir = filepath.Join(lc.DataDir, "leaf-jetstream")
	ec.ServerName, ec.Domain, ec.Listen = lc.Domain, lc.Domain, ""
	hub := lc.Hub
	// Audit events stay on this side of the link: the hub sources them,
	// and other agents' events are not this stream's.
	hub.DenyExports = appendNew(hub.DenyExports, eventlog.AuditPrefix+".>", eventlog.ControlPrefix+".>")
	hub.DenyImports = appendNew(hub.DenyImports, eventlog.AuditPrefix+".>", eventlog.ControlPrefix+".>")
	ec.Leaf = &hub
	if ec.PingInterval <= 0 {
		ec.PingInterval = DefaultLeafPing
	}
	if ec.SyncInterval <= 0 {
		ec.SyncInterval = DefaultLeafSync
	}
	if ec.Logger.GetLevel() == lc.Logger.GetLevel() {
		ec.Logger = lc.Logger
	}
	l := &Log{leafAudit: lc.AuditName}
	var err error
	if l.Server, err = embedded.Start(ctx, ec); err != nil {
		return nil, fmt.Errorf("open leaf event log: %w", err)
	}
	fail := func(err error) (*Log, error) {
		l.Close(ctx)
		return nil, fmt.Errorf("open leaf event log: %w", err)
	}
	if l.Conn, err = l.Server.Connect(nats.Name("tollgate-agent"), nats.MaxReconnects(-1)); err != nil {
		return fail(err)
	}
	if l.JS, err = jetstream.New(l.Conn); err != nil {
		return fail(err)
	}
	if l.Hub, err = jetstream.NewWithDomain(l.Conn, lc.HubDomain); err != nil {
		return fail(err)
	}
	control, audit := lc.LeafStreamConfigs()
	for _, sc := range []jetstream.StreamConfig{control, audit} {
		if err := provisionLocal(ctx, l.JS, sc); err != nil {
			return fail(err)
		}
	}
	if l.Control, err = NewStream(ctx, l.JS, control.Name, WithMaxEventSize(lc.MaxEventSize)); err != nil {
		return fail(err)
	}
	if l.Audit, err = NewStream(ctx, l.JS, audit.Name, WithMaxEventSize(lc.MaxEventSize)); err != nil {
		return fail(err)
	}
	return l, nil
}

// provisionLocal creates or updates one local stream; one that exists with
// other subjects, storage, retention or mirror fails with
// ErrStreamMismatch.
func provisionLocal(ctx context.Context, js jetstream.JetStream, want jetstream.StreamConfig) error {
	have, err := existing(ctx, js, want.Name)
	if err != nil {
		return err
	}
	if have != nil {
		if d := settingDiffs(*have, want); len(d) > 0 || (have.Mirror == nil) != (want.Mirror == nil) {
			return fmt.Errorf("%w: local stream %s exists with other settings %q (mirror %t): move %s aside and start again",
				ErrStreamMismatch, want.Name, d, have.Mirror != nil, "the agent's leaf-jetstream dir")
		}
	}
	if _, err := js.CreateOrUpdateStream(ctx, want); err != nil {
		return fmt.Errorf("provision local stream %s: %w", want.Name, mapErr(err))
	}
	return nil
}

func appendNew(list []string, subjects ...string) []string {
	out := slices.Clone(list)
	for _, s := range subjects {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// LeafDomain is the JetStream domain of the leaf agent agentID: the hub
// derives it from the agent's verified cert, the agent from its identity.
// Characters a domain cannot hold become '_' (an agent id ends in a
// random part, so ids stay apart).
func LeafDomain(agentID string) string {
	b := []byte("tg-" + agentID)
	for i, c := range b {
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			b[i] = '_'
		}
	}
	return string(b)
}
