package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
)

// AddLeafSource makes the hub's audit stream (auditName) source the audit
// stream of the same name of the leaf agent whose JetStream is in domain.
// JetStream then pulls the leaf's events in order, resumes after an outage
// from the last one it stored, and stores each once. It is idempotent;
// added reports whether the stream was changed.
//
// JetStream has no compare-and-set for stream configs: two controls adding
// different leaves at the same moment may each drop the other's. Callers
// ensure their sources again now and then (control does, for every leaf
// connected to it).
func AddLeafSource(ctx context.Context, js jetstream.JetStream, auditName, domain string) (added bool, err error) {
	st, err := js.Stream(ctx, auditName)
	if err != nil {
		return false, fmt.Errorf("add leaf source %s: %w", domain, mapErr(err))
	}
	cfg := st.CachedInfo().Config
	prefix := HubAPIPrefix(domain)
	for _, s := range cfg.Sources {
		if s.External != nil && s.External.APIPrefix == prefix && s.Name == auditName {
			return false, nil
		}
	}
	cfg.Sources = append(cfg.Sources, &jetstream.StreamSource{Name: auditName,
		External: &jetstream.ExternalStream{APIPrefix: prefix}})
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		return false, fmt.Errorf("add leaf source %s to stream %s: %w", domain, auditName, mapErr(err))
	}
	return true, nil
}

// sourceHeader is the header JetStream puts on a sourced message: the
// source's index name, then the sequence the message had there.
const sourceHeader = "Nats-Stream-Source"

// ErrNotLeaf is returned by TrimSourced on a log OpenLeaf did not open.
var ErrNotLeaf = errors.New("not a leaf agent's event log")

// TrimSourced drops from a leaf agent's local audit stream what the hub
// has stored. It reads the hub's last message on subject (one the agent
// appends now and then: its checkpoint subject), takes the local sequence
// it was sourced from, and purges the local stream below it; sourcing is
// in order, so everything below is in the hub. It returns that sequence,
// 0 when the hub has no sourced message on subject yet. The hub must be
// reachable.
func (l *Log) TrimSourced(ctx context.Context, subject string) (uint64, error) {
	if l.Hub == nil || l.leafAudit == "" {
		return 0, ErrNotLeaf
	}
	// Asked of the hub stream's leader (msgGet), not of any replica a
	// direct get may reach: a lagging one would only make it trim less,
	// but the leader's answer trims everything the hub has acknowledged.
	m, found, err := msgGet(ctx, l.Hub, l.leafAudit, msgGetRequest{LastFor: subject})
	if err != nil {
		return 0, fmt.Errorf("trim: the hub's last %s on %s: %w", subject, l.leafAudit, mapErr(err))
	}
	if !found {
		return 0, nil
	}
	seq, ok := sourcedSeq(m.source, l.leafAudit)
	if !ok {
		return 0, nil // stored before this agent was a leaf
	}
	local, err := l.JS.Stream(ctx, l.leafAudit)
	if err != nil {
		return 0, fmt.Errorf("trim: local stream %s: %w", l.leafAudit, mapErr(err))
	}
	if err := local.Purge(ctx, jetstream.WithPurgeSequence(seq)); err != nil {
		return 0, fmt.Errorf("trim: purge local stream %s below %d: %w", l.leafAudit, seq, mapErr(err))
	}
	return seq, nil
}

// sourcedSeq parses a Nats-Stream-Source header ("<index name> <seq>
// ...", the index name starting with the source stream's name).
func sourcedSeq(h, stream string) (uint64, bool) {
	f := strings.Fields(h)
	if len(f) < 2 || !strings.HasPrefix(f[0], stream) {
		return 0, false
	}
	seq, err := strconv.ParseUint(f[1], 10, 64)
	return seq, err == nil && seq > 0
}
