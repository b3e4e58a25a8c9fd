package relay

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/schemas"
)

// Mode is the audit mode of a session.
type Mode int

const (
	// Strict forwards a query only after its event is acknowledged.
	Strict Mode = iota
	// Async forwards at once and hands events to the Publisher.
	Async
)

// Publisher takes the session's audit events. Implementations chain and
// append them (agent/auditpub).
//
// Neither method keeps evs after it returns: an implementation copies the
// events it keeps, and may modify the elements while it runs (stamp the
// chain, compact or shrink Data). The session reuses its slices.
type Publisher interface {
	// PublishSync returns once evs are stored, or with an error if they
	// could not be (then the queries must not run; the events may still be
	// stored later).
	PublishSync(ctx context.Context, evs []eventlog.Event) error
	// TryPublishAsync takes evs durably (on disk, or queued when the
	// implementation has no disk) without waiting for the log, or returns
	// why it could not: the spool is full or failing, the publisher is
	// closed. Then none of evs was taken, and the queries they record
	// must not run. It never blocks on the log.
	TryPublishAsync(evs []eventlog.Event) error
}

// Buffer sizes and limits.
const (
	bufSize    = 64 << 10
	flushLimit = 256 << 10
	// maxInflight bounds the messages of one session awaiting the
	// server's answer (the tracker's queue); inflightCheck is how often
	// the client loop looks.
	maxInflight   = 4096
	inflightCheck = 256
	// Event size budget for query data (the envelope adds ~400 bytes; the
	// publisher fits whatever is still over the bound once it is known).
	maxQueryData = 48 << 10
)

// Config describes one session.
type Config struct {
	SessionID string
	Database  string // route name (subject token)
	User      string // Tollgate user: the events' actor and subject token
	Mode      Mode
	Builder   *eventlog.Builder
	Publisher Publisher
	// MapBackendKey returns the secret key the client gets in place of the
	// server's (agent/cancel): the BackendKeyData keeps the server's
	// process id. The secret is 4 bytes in protocol 3.0 and up to
	// pgwire.MaxCancelKey in 3.2; it aliases the frame, valid only during
	// the call. Nil forwards the server's key unchanged.
	MapBackendKey func(pid uint32, secret []byte) []byte
	// AccessRequest is the access request whose grant allowed the session,
	// if one did: every query event names it.
	AccessRequest string
	// MaxMessage bounds one message body (0: pgwire.DefaultMaxMessage;
	// negative is refused).
	MaxMessage int
	// Budget, when set, bounds the bytes that large client messages hold at
	// once across the sessions sharing it (the agent's global bound): a
	// session waits for room before it reads one (backpressure).
	Budget *pgwire.Budget
	// Judge, when set, judges every query by the session's statement rules
	// before it is forwarded (query policies); nil forwards all.
	Judge  Judge
	Logger zerolog.Logger
}

// Stats are the session's counts for session.ended.
type Stats struct {
	Queries  uint64
	BytesIn  int64 // client → server
	BytesOut int64 // server → client
	// Reason is schemas.EndClient, EndServer or EndError (or the reason
	// given to Kill).
	Reason  string
	Message string
}

// Session relays one client connection to one server connection.
type Session struct {
	cfg    Config
	client net.Conn
	server net.Conn
	cr     *pgwire.Reader[pgwire.ClientMsg]
	sr     *pgwire.Reader[pgwire.ServerMsg]
	t      *tracker

	querySubject  string
	resultSubject string

	// outMu guards writes to the client (server replies and the agent's
	// own), and cout.
	outMu sync.Mutex
	cout  []byte
	// resultMu is held by serverLoop from before a reply reaches the
	// client until the reply's result events are taken, so the client's
	// next query, which may follow from that reply, is recorded after
	// them (clientLoop waits on it before publishing). The results are
	// published after the write, off the reply's latency.
	resultMu sync.Mutex

	queries  atomic.Uint64
	bytesIn  atomic.Int64
	bytesOut atomic.Int64

	endOnce sync.Once
	reason  string
	message string
	fatal   atomic.Bool
	// terminated is set when the client sent Terminate: the server closing
	// right after it is then the client's doing.
	terminated atomic.Bool
}

// New returns a Session, or an error naming a Config value that makes no
// sense (a Mode neither Strict nor Async, a negative MaxMessage). clientBR
// may hold bytes the caller already buffered from client (nil: a new
// reader).
func New(cfg Config, client net.Conn, clientBR *bufio.Reader, server net.Conn) (*Session, error) {
	switch {
	case cfg.Mode != Strict && cfg.Mode != Async:
		return nil, fmt.Errorf("relay: Mode %d is neither Strict nor Async", cfg.Mode)
	case cfg.MaxMessage < 0:
		return nil, fmt.Errorf("relay: MaxMessage %d is negative", cfg.MaxMessage)
	}
	if clientBR == nil {
		clientBR = bufio.NewReaderSize(client, bufSize)
	}
	t := newTracker(cfg.SessionID)
	t.judge = cfg.Judge
	return &Session{
		cfg:           cfg,
		client:        client,
		server:        server,
		cr:            newBudgetReader(clientBR, cfg.MaxMessage, cfg.Budget),
		sr:            pgwire.NewServerReader(bufio.NewReaderSize(server, bufSize), cfg.MaxMessage),
		t:             t,
		querySubject:  eventlog.AuditSubject(cfg.Database, cfg.User, cfg.SessionID, schemas.TypeQuery),
		resultSubject: eventlog.AuditSubject(cfg.Database, cfg.User, cfg.SessionID, schemas.TypeQueryResult),
	}, nil
}

func newBudgetReader(br *bufio.Reader, max int, b *pgwire.Budget) *pgwire.Reader[pgwire.ClientMsg] {
	r := pgwire.NewClientReader(br, max)
	r.SetBudget(b)
	return r
}

// Run relays until either side ends, ctx ends or Kill is called, then
// closes both connections and returns the counts.
func (s *Session) Run(ctx context.Context) Stats {
	stop := context.AfterFunc(ctx, func() { s.end(schemas.EndShutdown, "shutdown", nil) })
	defer stop()
	done := make(chan struct{})
	go func() {
		defer close(done)
		err := s.serverLoop()
		if s.terminated.Load() {
			s.end(schemas.EndClient, "client closed the connection", nil)
			return
		}
		s.end(schemas.EndServer, "server closed the connection", err)
	}()
	err := s.clientLoop(ctx)
	s.end(schemas.EndClient, "client closed the connection", err)
	<-done
	s.recordUnanswered()
	return Stats{
		Queries: s.queries.Load(), BytesIn: s.bytesIn.Load(), BytesOut: s.bytesOut.Load(),
		Reason: s.reason, Message: s.message,
	}
}

// Kill ends the session with a FATAL error to the client (locks, cert
// expiry, shutdown), written after any reply in progress.
func (s *Session) Kill(reason string, e pgwire.Error) {
	e.Severity = pgwire.SeverityFatal
	s.outMu.Lock()
	s.cout = pgwire.AppendError(s.cout, e)
	_ = s.flushClientLocked()
	s.outMu.Unlock()
	s.end(reason, e.Message, nil)
}

func (s *Session) end(reason, msg string, err error) {
	s.endOnce.Do(func() {
		s.reason, s.message = reason, msg
		if err != nil && !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
			s.reason, s.message = schemas.EndError, err.Error()
			var fe *pgwire.FrameError
			if errors.As(err, &fe) {
				s.outMu.Lock()
				s.cout = pgwire.AppendError(s.cout, pgwire.Fatal(frameCode(fe), fe.Error()))
				_ = s.flushClientLocked()
				s.outMu.Unlock()
			}
		}
		s.t.close()
		_ = s.client.Close()
		_ = s.server.Close()
	})
}

func frameCode(fe *pgwire.FrameError) string {
	if errors.Is(fe, pgwire.ErrFrameTooLarge) {
		return pgwire.CodeProgramLimitExceeded
	}
	return pgwire.CodeProtocolViolation
}

func (s *Session) flushClientLocked() error {
	if len(s.cout) == 0 {
		return nil
	}
	n, err := s.client.Write(s.cout)
	s.bytesOut.Add(int64(n))
	if cap(s.cout) > 4*flushLimit {
		s.cout = nil
	} else {
		s.cout = s.cout[:0]
	}
	return err
}

// serverLoop relays server → client, matching results. Replies are
// written to the client in batches: outMu is held from a batch's first
// message to its flush.
func (s *Session) serverLoop() error {
	var reply serverReply
	var evs []eventlog.Event
	locked := false
	defer func() {
		if locked {
			s.outMu.Unlock()
		}
	}()
	for {
		typ, body, err := s.sr.Next()
		if err != nil {
			return err
		}
		if !locked {
			s.outMu.Lock()
			locked = true
		}
		now := time.Now()
		s.t.server(typ, body, now, &reply)
		if err := s.writeReplyLocked(typ, body, &reply); err != nil {
			return err
		}
		for i := range reply.results {
			evs = append(evs, s.resultEvent(&reply.results[i], now))
		}
		reply.results, reply.synth = reply.results[:0], reply.synth[:0]
		if s.sr.FrameBuffered() && len(s.cout) < flushLimit {
			continue
		}
		err = s.flushRepliesLocked(evs)
		clear(evs)
		evs = evs[:0]
		s.outMu.Unlock()
		locked = false
		if err != nil {
			return err
		}
		if s.fatal.Load() {
			return errors.New("a query inside a transaction was refused: its audit event could not be recorded")
		}
	}
}

// writeReplyLocked writes one server message to the client as the tracker
// said (reply): the agent's error before it or in its place, the agent's
// secret in a BackendKeyData, a large message from the reader's buffer
// with no copy; then the agent's own replies that follow it.
func (s *Session) writeReplyLocked(typ pgwire.ServerMsg, body []byte, reply *serverReply) error {
	if reply.pre != nil {
		s.appendSynthLocked(&item{kind: opSynth, synthErr: reply.pre})
		reply.pre = nil
	}
	if reply.replace != nil {
		s.cout = pgwire.AppendError(s.cout, *reply.replace)
		reply.replace = nil
	} else if typ == pgwire.ServerBackendKeyData && s.cfg.MapBackendKey != nil {
		s.cout = s.mapBackendKey(s.cout, body)
	} else if raw := s.sr.Raw(); len(raw) > flushLimit && len(reply.results) == 0 {
		// A large message (a wide row) goes to the client with no copy.
		if err := s.flushClientLocked(); err != nil {
			return err
		}
		n, err := s.client.Write(raw)
		s.bytesOut.Add(int64(n))
		if err != nil {
			return err
		}
	} else {
		s.cout = append(s.cout, raw...)
	}
	for _, sy := range reply.synth {
		s.appendSynthLocked(&sy)
	}
	return nil
}

// flushRepliesLocked writes the batch to the client and hands its result
// events to the publisher, holding resultMu from before the write until
// they are taken (see Session.resultMu).
func (s *Session) flushRepliesLocked(evs []eventlog.Event) error {
	if len(evs) == 0 {
		return s.flushClientLocked()
	}
	s.resultMu.Lock()
	defer s.resultMu.Unlock()
	err := s.flushClientLocked()
	if perr := s.cfg.Publisher.TryPublishAsync(evs); perr != nil {
		// The queries ran; their results are lost. The publisher logs,
		// counts and reports the condition (not per batch).
		s.cfg.Logger.Debug().Err(perr).Str("session", s.cfg.SessionID).Int("events", len(evs)).Msg("query results not recorded")
	}
	return err
}

// mapBackendKey appends the client's BackendKeyData for the server's
// body: the server's process id with the agent's secret. A malformed one
// (no key, or over 256 bytes) is forwarded as it came, so the client sees
// what the server sent; a cancel with it does not match.
func (s *Session) mapBackendKey(dst, body []byte) []byte {
	pid, secret, err := pgwire.ParseBackendKeyData(body)
	if err != nil {
		s.cfg.Logger.Warn().Err(err).Str("session", s.cfg.SessionID).Msg("server's BackendKeyData forwarded unchanged: cancel through the agent will not match")
		return append(dst, s.sr.Raw()...)
	}
	return pgwire.AppendBackendKeyData(dst, pid, s.cfg.MapBackendKey(pid, secret))
}

// appendSynthLocked writes one of the agent's own replies. Inside a
// transaction a refused query ends the session (the server then rolls the
// transaction back), since the client would otherwise go on in a
// transaction missing a statement.
func (s *Session) appendSynthLocked(it *item) {
	tx := s.txStatus()
	if it.synthErr != nil && tx != pgwire.TxIdle {
		e := *it.synthErr
		e.Severity = pgwire.SeverityFatal
		e.Detail = "The session was inside a transaction; it is rolled back."
		s.cout = pgwire.AppendError(s.cout, e)
		s.fatal.Store(true)
		return
	}
	if it.synthErr != nil {
		s.cout = pgwire.AppendError(s.cout, *it.synthErr)
	}
	if it.synthRFQ {
		s.cout = pgwire.AppendReadyForQuery(s.cout, tx)
	}
}

func (s *Session) txStatus() byte {
	s.t.mu.Lock()
	defer s.t.mu.Unlock()
	return s.t.txStatus
}

// respond writes the agent's own reply in order: at once if nothing is in
// flight, else after the server's replies to what is.
func (s *Session) respond(errResp *pgwire.Error, rfq bool) error {
	s.outMu.Lock()
	defer s.outMu.Unlock()
	it := item{kind: opSynth, synthErr: errResp, synthRFQ: rfq}
	s.t.mu.Lock()
	if s.t.outstandingLocked() {
		s.t.pushLocked(it)
		s.t.mu.Unlock()
		return nil
	}
	s.t.mu.Unlock()
	s.appendSynthLocked(&it)
	err := s.flushClientLocked()
	if s.fatal.Load() {
		s.end(schemas.EndError, "a query inside a transaction was refused: its audit event could not be recorded", nil)
	}
	return err
}

var syncMsg = []byte{byte(pgwire.ClientSync), 0, 0, 0, 4}

// recordUnanswered records a query.result for each query the server had
// not answered when the session ended (a lock or a shutdown ending it
// mid-query, a server or link gone): it may have run, so the record says
// the session ended before its reply, and why.
func (s *Session) recordUnanswered() {
	s.t.mu.Lock()
	var ns []uint64
	for i := s.t.head; i < len(s.t.fifo); i++ {
		if it := &s.t.fifo[i]; it.n > 0 && (it.kind == opQuery || it.kind == opExecute || it.kind == opFunc) {
			ns = append(ns, it.n)
		}
	}
	s.t.mu.Unlock()
	if len(ns) == 0 {
		return
	}
	now := time.Now()
	evs := make([]eventlog.Event, 0, len(ns))
	for _, n := range ns {
		r := schemas.QueryResult{SessionID: s.cfg.SessionID, N: n, Status: schemas.ResultError,
			Error: "no reply from the server: the session ended while it ran (" + s.reason + ": " + s.message + ")"}
		evs = append(evs, s.resultEvent(&r, now))
	}
	if err := s.cfg.Publisher.TryPublishAsync(evs); err != nil {
		s.cfg.Logger.Debug().Err(err).Str("session", s.cfg.SessionID).Msg("results of unanswered queries not recorded")
	}
}

// publishNotExecuted records, when the publisher takes it, a query.result
// "not executed" (58000, with why) for each query event of a refused
// batch. A strict batch's query events may still be stored (PublishSync
// failed waiting for the log); an async batch's were not taken, so they
// are offered again with their results (withQueries): the record then
// says what was refused, not only that something was.
func (s *Session) publishNotExecuted(evs []eventlog.Event, why error, withQueries bool) {
	code, text := notExecutedFor(why)
	now := time.Now()
	var out []eventlog.Event
	if withQueries {
		out = append(make([]eventlog.Event, 0, 2*len(evs)), evs...)
	}
	for i := range evs {
		n, ok := queryN(evs[i].Data)
		if !ok {
			continue
		}
		r := schemas.QueryResult{SessionID: s.cfg.SessionID, N: n, Status: schemas.ResultError,
			SQLState: code, Error: text + ": " + why.Error()}
		out = append(out, s.resultEvent(&r, now))
	}
	if err := s.cfg.Publisher.TryPublishAsync(out); err != nil {
		s.cfg.Logger.Debug().Err(err).Str("session", s.cfg.SessionID).Msg("refused queries not recorded")
	}
}

func (s *Session) newEvent(typ, subject string, data []byte, now time.Time) eventlog.Event {
	b := s.cfg.Builder
	now = now.UTC()
	return eventlog.Event{
		ID: b.IDs.NewID(now), Type: typ, V: 1, Time: now, Source: b.Source,
		Actor: s.cfg.User, Subject: subject, Data: data,
	}
}

func (s *Session) queryEvent(q *schemas.Query) eventlog.Event {
	q.AccessRequest = s.cfg.AccessRequest
	data := appendQueryJSON(make([]byte, 0, 128+len(q.Statement)), q)
	if len(data) > maxQueryData {
		// Names, texts and parameters cut, flagged and hashed (schemas.Fit).
		if fit, err := q.Fit(maxQueryData); err == nil {
			data = fit
		}
	}
	return s.newEvent(schemas.TypeQuery, s.querySubject, data, s.cfg.Builder.Clock.Now())
}

func (s *Session) resultEvent(r *schemas.QueryResult, now time.Time) eventlog.Event {
	data := appendResultJSON(make([]byte, 0, 160+len(r.Error)), r)
	if len(data) > maxQueryData {
		if fit, err := r.Fit(maxQueryData); err == nil {
			data = fit
		}
	}
	return s.newEvent(schemas.TypeQueryResult, s.resultSubject, data, now)
}

// String describes the session for logs.
func (s *Session) String() string {
	return fmt.Sprintf("session %s (%s@%s)", s.cfg.SessionID, s.cfg.User, s.cfg.Database)
}
