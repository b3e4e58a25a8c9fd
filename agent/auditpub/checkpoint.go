package auditpub

import (
	"context"
	"crypto"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// DefaultCheckpointInterval is how often, at most, the head of a chain
// that moves goes unsigned (CheckpointOptions.Interval).
const DefaultCheckpointInterval = 10 * time.Second

// SyncPublisher stores events and waits for the log's acknowledgement
// (*Publisher is one).
type SyncPublisher interface {
	PublishSync(ctx context.Context, evs []eventlog.Event) error
}

// CheckpointOptions configure a Checkpointer.
type CheckpointOptions struct {
	// Interval: while the chain moves, it is signed at least this often
	// (default DefaultCheckpointInterval).
	Interval time.Duration
	// Builder stamps checkpoint events; its Source is the chain's source
	// (the agent id).
	Builder *eventlog.Builder
	// Cert returns the current host cert (Leaf set) and its key, which
	// signs. The control stream records this cert for the source
	// (agent.joined / agent.updated host_cert_pem).
	Cert   func() *tls.Certificate
	Logger zerolog.Logger
}

// Checkpointer anchors an agent's audit hash chain: it wraps the chain the
// Publisher links events with, so it sees every event in chain order, and
// signs the chain head with the agent's host key as an audit.checkpoint
// event (schemas.AuditCheckpoint) — at Interval while the head moves, soon
// after each session.ended, and at clean shutdown (Checkpoint with
// schemas.CheckpointShutdown). The checkpoint is the next event of the
// chain: Link fills its data with the head it follows, under the
// Publisher's lock, so the signed (seq, hash) is exactly its prev. A
// rewrite of any event before it changes that hash and breaks either the
// link or the signature.
//
// Use Wrap's result as the Publisher's Chainer, then Run with the
// Publisher.
type Checkpointer struct {
	inner Chainer
	opt   CheckpointOptions

	mu           sync.Mutex
	checkpointed uint64 // chain sequence of the last checkpoint linked
	kick         chan struct{}
}

// NewCheckpointer returns a Checkpointer for the chain of opt.Builder's
// source.
func NewCheckpointer(opt CheckpointOptions) (*Checkpointer, error) {
	if opt.Builder == nil || opt.Cert == nil {
		return nil, errors.New("audit checkpointer: Builder and Cert are required")
	}
	if opt.Interval <= 0 {
		opt.Interval = DefaultCheckpointInterval
	}
	return &Checkpointer{opt: opt, kick: make(chan struct{}, 1)}, nil
}

// Wrap returns the Chainer to give the Publisher: inner, with checkpoints
// filled in and the head watched. Call it once.
func (c *Checkpointer) Wrap(inner Chainer) Chainer {
	c.mu.Lock()
	c.inner = inner
	c.mu.Unlock()
	return (*checkpointChain)(c)
}

// checkpointChain is the Chainer face of a Checkpointer.
type checkpointChain Checkpointer

var _ Chainer = (*checkpointChain)(nil)

// Next fills a checkpoint's data (the head it follows, signed), links ev
// into the chain, and notes session ends.
func (cc *checkpointChain) Next(ev *eventlog.Event) error {
	c := (*Checkpointer)(cc)
	c.mu.Lock()
	defer c.mu.Unlock()
	cp := ev.Type == schemas.TypeAuditCheckpoint
	if cp {
		if err := c.fill(ev); err != nil {
			return err
		}
	}
	if err := c.inner.Next(ev); err != nil {
		return err
	}
	switch {
	case cp:
		c.checkpointed = ev.Seq
	case ev.Type == schemas.TypeSessionEnded:
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// Last returns the chain head.
func (cc *checkpointChain) Last() (uint64, string) {
	c := (*Checkpointer)(cc)
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.inner.Last()
}

// Reset moves the head back (an event linked but not spooled).
func (cc *checkpointChain) Reset(seq uint64, hash string) {
	c := (*Checkpointer)(cc)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.inner.Reset(seq, hash)
	if c.checkpointed > seq {
		c.checkpointed = 0 // that checkpoint is undone: sign again
	}
}

// placeholder is the data of a checkpoint before Link fills it.
type placeholder struct {
	Reason string `json:"reason"`
}

// fill replaces a checkpoint placeholder's data with the signed head.
// Called under c.mu, in chain order.
func (c *Checkpointer) fill(ev *eventlog.Event) error {
	var ph placeholder
	if err := json.Unmarshal(ev.Data, &ph); err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	seq, hash := c.inner.Last()
	if seq == 0 {
		return errors.New("audit checkpoint: the chain is empty")
	}
	cert := c.opt.Cert()
	if cert == nil || cert.Leaf == nil {
		return errors.New("audit checkpoint: no host cert")
	}
	key, ok := cert.PrivateKey.(crypto.Signer)
	if !ok {
		return fmt.Errorf("audit checkpoint: the host key (%T) cannot sign", cert.PrivateKey)
	}
	source := c.opt.Builder.Source
	alg, sig, err := eventlog.SignCheckpoint(key, eventlog.CheckpointMessage(source, seq, hash, ev.Time))
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	data, err := json.Marshal(schemas.AuditCheckpoint{Source: source, Seq: seq, Hash: hash, Time: ev.Time, Reason: ph.Reason,
		IntervalMS: c.opt.Interval.Milliseconds(), CertSerial: cert.Leaf.SerialNumber.Text(16), Alg: alg,
		Signature: base64.StdEncoding.EncodeToString(sig)})
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	ev.Data = data
	return nil
}

// moved reports whether events were linked since the last checkpoint.
func (c *Checkpointer) moved() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.inner == nil {
		return false
	}
	seq, _ := c.inner.Last()
	return seq > 0 && seq != c.checkpointed
}

// Checkpoint publishes a checkpoint now (reason: a schemas.Checkpoint*
// value) through pub and waits for it to be stored, unless no event was
// linked since the last one.
func (c *Checkpointer) Checkpoint(ctx context.Context, pub SyncPublisher, reason string) error {
	if !c.moved() {
		return nil
	}
	source := c.opt.Builder.Source
	ph, err := json.Marshal(placeholder{Reason: reason})
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	ev, err := c.opt.Builder.Build(schemas.TypeAuditCheckpoint, 1, source,
		eventlog.AuditSubject("", "", source, schemas.TypeAuditCheckpoint), json.RawMessage(ph))
	if err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	if err := pub.PublishSync(ctx, []eventlog.Event{ev}); err != nil {
		return fmt.Errorf("audit checkpoint: %w", err)
	}
	return nil
}

// Run publishes checkpoints through pub until ctx ends: every Interval
// when the head moved, and after a session.ended. Call Checkpoint with
// schemas.CheckpointShutdown after it returns and the last session ended.
func (c *Checkpointer) Run(ctx context.Context, pub SyncPublisher) {
	t := time.NewTicker(c.opt.Interval)
	defer t.Stop()
	for {
		reason := schemas.CheckpointInterval
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-c.kick:
			reason = schemas.CheckpointSessionEnd
		}
		if err := c.Checkpoint(ctx, pub, reason); err != nil && ctx.Err() == nil {
			c.opt.Logger.Warn().Err(err).Str("reason", reason).Msg("audit checkpoint not written (tried again at the next one)")
		}
	}
}
