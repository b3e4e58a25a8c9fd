package relay

import (
	"context"
	"errors"
	"io"
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/schemas"
)

// clientLoop relays client → server in batches: every frame already
// buffered is read, its queries recorded, and the batch forwarded with one
// write (in strict mode after the events are stored).
func (s *Session) clientLoop(ctx context.Context) error {
	b := &clientBatch{s: s, ctx: ctx}
	for {
		typ, body, err := s.cr.Next()
		if err != nil {
			_ = b.flush()
			return err
		}
		if err := b.take(typ, body); err != nil {
			return err
		}
	}
}

// clientBatch is the client loop's state: the batch being built (bytes
// to forward, events to publish first) and what the refusal of a batch
// must still answer.
type clientBatch struct {
	s   *Session
	ctx context.Context

	out   []byte
	big   []byte // a large message forwarded after out, from the reader's buffer
	evs   []eventlog.Event
	spare []eventlog.Event
	// mark is where the batch began in the tracker (marked: since it was
	// taken).
	mark   trackerMark
	marked bool
	groups int  // groups ended in this batch (Query, Sync, FunctionCall)
	open   bool // an extended group is open at the batch end
	// fwdOpen: the forwarded messages leave an extended group open.
	fwdOpen bool
	// discard: drop messages until Sync (after a refused batch);
	// discardCarried: the discarded group was opened by forwarded messages,
	// so its Sync goes to the server (see refuse).
	discard, discardCarried bool
	// skipToSync: a message of the open group was refused (unknown
	// statement or portal): drop the rest of the group, forward its Sync.
	skipToSync bool
	checked    int          // messages since the last in-flight check
	refusal    pgwire.Error // what the last refused batch was told
}

// take handles one client message. It returns io.EOF when the client
// ended the session.
func (b *clientBatch) take(typ pgwire.ClientMsg, body []byte) error {
	s := b.s
	if skip, err := b.skipping(typ); skip || err != nil {
		return err
	}
	if !b.marked {
		b.mark, b.marked = s.t.mark(), true
	}
	q, err := b.track(typ, body)
	if errors.Is(err, errSkip) {
		return nil
	}
	if errors.Is(err, errPolicyDenied) {
		return b.deny(typ, q, typ != pgwire.ClientExecute && s.t.openGroup())
	}
	var rf *nameRefusal
	if err != nil && errors.As(err, &rf) {
		// Not forwarded: a poison Bind fails in its place (the client
		// gets the agent's error); the rest of the group is dropped up
		// to Sync, as the server would skip it.
		s.cfg.Logger.Warn().Str("session", s.cfg.SessionID).Str("reason", rf.e.Message).Msg("message refused")
		s.t.pushRefused(rf)
		b.out = append(b.out, rf.poison...)
		b.open, b.skipToSync = true, true
		return nil
	}
	if err != nil {
		return err
	}
	switch typ {
	case pgwire.ClientQuery, pgwire.ClientSync, pgwire.ClientFunctionCall:
		b.groups++
		b.open = false
	case pgwire.ClientParse, pgwire.ClientBind, pgwire.ClientExecute, pgwire.ClientDescribe, pgwire.ClientClose:
		b.open = true
	}
	if q != nil {
		s.queries.Add(1)
		if b.evs == nil {
			b.evs = b.spare
		}
		b.evs = append(b.evs, s.queryEvent(q))
		if s.t.judge != nil {
			b.appendVerdictEvents(q.N)
		}
		if r := s.t.takeDead(); r != nil {
			b.evs = append(b.evs, s.resultEvent(r, time.Now()))
		}
	}
	if raw := s.cr.Raw(); len(raw) > flushLimit {
		// A large message goes from the reader's buffer to the server with
		// no copy; the batch is forwarded with it now.
		b.big = raw
		if err := b.flush(); err != nil {
			return err
		}
		s.cr.Release()
		return nil
	}
	b.out = append(b.out, s.cr.Raw()...)
	if typ == pgwire.ClientTerminate {
		s.terminated.Store(true)
		_ = b.flush()
		return io.EOF
	}
	if !s.cr.FrameBuffered() || len(b.out) >= flushLimit {
		if err := b.flush(); err != nil {
			return err
		}
	}
	return b.backpressure()
}

// errSkip: the message belongs to a refused batch and is dropped.
var errSkip = errors.New("relay: message of a refused batch")

// track hands the message to the tracker; when it must wait for earlier
// groups, the batch is forwarded first.
func (b *clientBatch) track(typ pgwire.ClientMsg, body []byte) (q *schemas.Query, err error) {
	s := b.s
	q, err = s.t.client(typ, body)
	var we *waitError
	if err == nil || !errors.As(err, &we) {
		return q, err
	}
	if err := b.flush(); err != nil {
		return nil, err
	}
	if err := s.t.wait(we.ns, we.name); err != nil {
		return nil, err
	}
	if b.discard { // the flush was refused: this message is part of it
		return nil, errSkip
	}
	b.mark, b.marked = s.t.mark(), true
	return s.t.client(typ, body)
}

// skipping drops the messages of a refused group (skipToSync) or batch
// (discard) up to their Sync, which it answers as the group requires.
func (b *clientBatch) skipping(typ pgwire.ClientMsg) (bool, error) {
	s := b.s
	if b.skipToSync {
		switch typ {
		case pgwire.ClientSync:
			b.skipToSync = false // the Sync goes on as usual
		case pgwire.ClientTerminate:
			s.terminated.Store(true)
			_ = b.flush()
			return true, io.EOF
		default:
			return true, nil
		}
	}
	if !b.discard {
		return false, nil
	}
	switch typ {
	case pgwire.ClientSync:
		b.discard = false
		if !b.discardCarried {
			return true, s.respond(nil, true)
		}
		b.discardCarried, b.fwdOpen = false, false
		e := b.refusal
		s.t.pushSync(&e)
		n, err := s.server.Write(syncMsg)
		s.bytesIn.Add(int64(n))
		return true, err
	case pgwire.ClientTerminate:
		s.terminated.Store(true)
		return true, io.EOF
	}
	return true, nil
}

// backpressure: past maxInflight messages awaiting the server, stop
// reading the client until half are answered.
func (b *clientBatch) backpressure() error {
	if b.checked++; b.checked < inflightCheck {
		return nil
	}
	b.checked = 0
	if b.s.t.inflight() <= maxInflight {
		return nil
	}
	if err := b.flush(); err != nil {
		return err
	}
	return b.s.t.waitInflight(maxInflight / 2)
}

func (b *clientBatch) release() {
	clear(b.evs)
	b.spare = b.evs[:0]
	b.evs = nil
}

// flush publishes the batch's events (strict: waits for the log) and
// forwards its bytes; a batch whose events were not taken is refused.
func (b *clientBatch) flush() error {
	s := b.s
	if len(b.evs) > 0 {
		// Results of replies the client has seen are recorded first.
		s.resultMu.Lock()
		//nolint:staticcheck // an empty critical section: a barrier
		s.resultMu.Unlock()
		var err error
		if s.cfg.Mode == Strict {
			err = s.cfg.Publisher.PublishSync(b.ctx, b.evs)
		} else {
			err = s.cfg.Publisher.TryPublishAsync(b.evs)
		}
		if err != nil {
			// Record that these queries did not run.
			s.publishNotExecuted(b.evs, err, s.cfg.Mode != Strict)
			s.cfg.Logger.Debug().Err(err).Str("session", s.cfg.SessionID).Msg("audit publish failed; batch refused")
			s.queries.Add(^uint64(len(b.evs) - 1))
			b.release()
			b.refusal = refusalFor(err)
			return b.refuse()
		}
	}
	b.release()
	b.marked = false
	b.fwdOpen = b.open || (b.fwdOpen && b.groups == 0)
	b.groups, b.open = 0, false
	if len(b.out) == 0 && b.big == nil {
		return nil
	}
	s.t.markStarted(b.mark, time.Now())
	var err error
	for _, p := range [2][]byte{b.out, b.big} {
		if err == nil && len(p) > 0 {
			var n int
			n, err = s.server.Write(p)
			s.bytesIn.Add(int64(n))
		}
	}
	b.big = nil
	if cap(b.out) > 4*flushLimit {
		b.out = nil
	} else {
		b.out = b.out[:0]
	}
	return err
}

// refuse answers a batch that was not forwarded: every group it ended
// gets the refusal and ReadyForQuery; a group still open is discarded up
// to its Sync. A group an earlier batch opened (fwdOpen) is ended with a
// Sync of the agent's own, so the server answers what it already has.
func (b *clientBatch) refuse() error {
	s := b.s
	s.t.rollback(b.mark)
	b.out, b.marked, b.big = b.out[:0], false, nil
	e := b.refusal
	carried := b.fwdOpen
	if carried && b.groups > 0 {
		s.t.pushSync(&e)
		n, err := s.server.Write(syncMsg)
		s.bytesIn.Add(int64(n))
		if err != nil {
			return err
		}
		b.groups--
		b.fwdOpen, carried = false, false
	}
	for range b.groups {
		if err := s.respond(&e, true); err != nil {
			return err
		}
	}
	if b.open {
		b.discard, b.discardCarried = true, carried
		if !carried {
			if err := s.respond(&e, false); err != nil {
				return err
			}
		}
	}
	b.groups, b.open = 0, false
	return nil
}
