package gateway

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/tollgate-db/tollgate/agent/cancel"
	"github.com/tollgate-db/tollgate/agent/frontdoor"
	"github.com/tollgate-db/tollgate/agent/relay"
	"github.com/tollgate-db/tollgate/agent/upstream"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/pgwire"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

// auditTimeout bounds the wait for session.started's ack in strict mode.
const auditTimeout = 5 * time.Second

// live is a relayed session.
type live struct {
	sess    *frontdoor.Session
	rs      *relay.Session
	expires time.Time
	// last is the unix nanos of the last byte read from either side.
	last   *atomic.Int64
	killed sync.Once
	// policy is the session's statement rules.
	policy *sessionPolicy
}

func (l *live) kill(reason string, e pgwire.Error) {
	l.killed.Do(func() { l.rs.Kill(reason, e) })
}

func shutdownError() pgwire.Error {
	return pgwire.Fatal(pgwire.CodeAdminShutdown, "terminating connection: the Tollgate agent is shutting down")
}

// activityConn stamps the time of every successful read.
type activityConn struct {
	net.Conn
	last *atomic.Int64
}

func (c activityConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 {
		c.last.Store(time.Now().UnixNano())
	}
	return n, err
}

// serve takes one connection from the front door to session.ended: the
// handshake, session.started, the upstream connection, the relay.
func (g *Gateway) serve(ctx context.Context, conn net.Conn) {
	last := new(atomic.Int64)
	last.Store(time.Now().UnixNano())
	sess := g.handshake(ctx, activityConn{Conn: conn, last: last})
	if sess == nil {
		return
	}
	defer sess.Close()
	rc := g.runtime()
	if !g.recordStarted(ctx, sess, rc.AuditMode) {
		return
	}
	begin := time.Now()
	ended := schemas.SessionEnded{SessionID: sess.ID}
	server, target, err := g.connectUpstream(ctx, sess)
	if err != nil {
		ended.Reason, ended.Message = schemas.EndError, err.Error()
		g.refuseUpstream(sess, err)
		g.recordEnded(sess, ended, begin)
		return
	}
	stats := g.relay(ctx, sess, rc, server, target, last)
	ended.Reason, ended.Message = stats.Reason, stats.Message
	ended.Queries, ended.BytesIn, ended.BytesOut = stats.Queries, stats.BytesIn, stats.BytesOut
	g.recordEnded(sess, ended, begin)
}

// handshake takes conn through the front door. It returns nil when the
// connection ended there: refused (recorded), a CancelRequest (handled),
// or closed before its startup.
func (g *Gateway) handshake(ctx context.Context, conn net.Conn) *frontdoor.Session {
	sess, err := g.fd.Handle(ctx, conn)
	if err == nil {
		return sess
	}
	var rej *frontdoor.Rejection
	switch {
	case errors.As(err, &rej):
		g.recordRejection(rej)
	case errors.Is(err, frontdoor.ErrCancelRequest):
	default:
		g.log.Debug().Err(err).Msg("connection closed before the startup")
	}
	return nil
}

// recordStarted records session.started. In strict mode the session goes
// on only once the log stored it (else refuseUnrecorded); in async mode
// once it is durable in the spool. It reports whether the session goes on.
func (g *Gateway) recordStarted(ctx context.Context, sess *frontdoor.Session, mode relay.Mode) bool {
	user, db := sess.Identity.User, sess.Database.Name
	started := sess.Started(g.id.AgentID)
	started.Decision = sess.Decision.Reason
	if mode != relay.Async {
		actx, cancel := context.WithTimeout(ctx, auditTimeout)
		err := g.recordSync(actx, schemas.TypeSessionStarted, db, user, sess.ID, started)
		cancel()
		if err != nil {
			g.refuseUnrecorded(sess, started, err)
			return false
		}
		return true
	}
	if err := g.record(schemas.TypeSessionStarted, db, user, sess.ID, started); err != nil {
		// Async: the session's events must be durable too.
		g.m.Rejections.WithLabelValues("audit_unavailable").Inc()
		_ = pgwire.WriteError(sess.Conn, pgwire.Fatal(pgwire.CodeAuditUnavailable,
			"Tollgate cannot record this session: "+err.Error()+"; try again shortly"))
		return false
	}
	return true
}

// recordEnded records session.ended, the session having lasted since
// begin.
func (g *Gateway) recordEnded(sess *frontdoor.Session, ended schemas.SessionEnded, begin time.Time) {
	ended.DurationMS = time.Since(begin).Milliseconds()
	g.m.SessionsEnded.WithLabelValues(ended.Reason).Inc()
	_ = g.record(schemas.TypeSessionEnded, sess.Database.Name, sess.Identity.User, sess.ID, ended)
	g.log.Info().Str("session", sess.ID).Str("user", sess.Identity.User).Str("reason", ended.Reason).Msg("session ended")
}

// refuseUpstream tells the client why the database could not be reached:
// the server's own refusal as it sent it, or the agent's.
func (g *Gateway) refuseUpstream(sess *frontdoor.Session, err error) {
	db := sess.Database.Name
	var se *upstream.ServerError
	switch {
	case errors.As(err, &se):
		_, _ = sess.Conn.Write(se.Raw)
	case errors.Is(err, upstream.ErrPasswordRequired):
		_ = pgwire.WriteError(sess.Conn, pgwire.Fatal(pgwire.CodeInvalidAuthorization,
			fmt.Sprintf("database %q asked Tollgate for a password: it must be set up for certificate authentication (pg_hba `hostssl … cert`, ssl_ca_file = the Tollgate db_client CA from `tollctl auth export --type=db-client`)", db)))
	default:
		_ = pgwire.WriteError(sess.Conn, pgwire.Fatal(pgwire.CodeConnectionFailure,
			fmt.Sprintf("Tollgate could not connect to database %q: %v", db, err)))
	}
	g.log.Warn().Err(err).Str("session", sess.ID).Msg("upstream connection failed")
}

// relay runs the session's relay to its end, the session live meanwhile
// (for the watcher, drain and cancels).
func (g *Gateway) relay(ctx context.Context, sess *frontdoor.Session, rc *Reloadable, server net.Conn, target upstream.Target,
	last *atomic.Int64) relay.Stats {
	key := &sessionKey{}
	pol, err := g.newSessionPolicy(sess, time.Now())
	if err != nil {
		server.Close()
		_ = pgwire.WriteError(sess.Conn, pgwire.Fatal(pgwire.CodeInsufficientPrivilege, "Tollgate cannot judge this session's statements: "+err.Error()))
		return relay.Stats{Reason: schemas.EndError, Message: err.Error()}
	}
	rs, err := relay.New(relay.Config{
		SessionID: sess.ID, Database: sess.Database.Name, User: sess.Identity.User, AccessRequest: sess.Decision.AccessRequest,
		Mode: rc.AuditMode, Builder: g.builder, Publisher: g.pub,
		MaxMessage: rc.MaxMessageSize, Budget: g.budget, Logger: g.log, MapBackendKey: g.mapBackendKey(sess.ID, target, key),
		Judge: pol,
	}, sess.Conn, sess.Reader, activityConn{Conn: server, last: last})
	if err != nil { // the options were validated when loaded
		server.Close()
		_ = pgwire.WriteError(sess.Conn, pgwire.Fatal(pgwire.CodeInternalError, "Tollgate could not relay the session: "+err.Error()))
		return relay.Stats{Reason: schemas.EndError, Message: err.Error()}
	}
	l := &live{sess: sess, rs: rs, expires: sess.Decision.Expires, last: last, policy: pol}
	g.mu.Lock()
	g.live[sess.ID] = l
	g.mu.Unlock()
	g.m.ActiveSessions.Inc()
	g.m.Sessions.Inc()
	g.poke() // a lock may have landed between the decision and now
	stats := rs.Run(context.WithoutCancel(ctx))
	g.m.ActiveSessions.Dec()
	g.mu.Lock()
	delete(g.live, sess.ID)
	g.mu.Unlock()
	if key.set {
		g.cancels.Unregister(key.key)
	}
	g.pub.forget(sess.ID)
	return stats
}

// sessionKey is the agent's cancel key of a session, once the server sent
// its BackendKeyData.
type sessionKey struct {
	key cancel.Key
	set bool
}

// mapBackendKey gives the relay the BackendKeyData mapping: the client
// keeps the server's pid (pg_stat_activity, pg_terminate_backend) and gets
// the agent's secret, registered to cancel at target.
func (g *Gateway) mapBackendKey(session string, target upstream.Target, k *sessionKey) func(pid uint32, secret []byte) []byte {
	return func(pid uint32, secret []byte) []byte {
		if k.set {
			return k.key.Secret
		}
		reg, err := g.cancels.Register(cancel.Upstream{SessionID: session, Key: cancel.Key{ProcessID: pid, Secret: secret},
			Dial: func(ctx context.Context) (net.Conn, error) { return upstream.DialTLS(ctx, target) }})
		if err != nil {
			g.log.Warn().Err(err).Str("session", session).Msg("register cancel key")
			return secret
		}
		k.key, k.set = reg, true
		return reg.Secret
	}
}

// refuseUnrecorded refuses a strict session whose session.started was not
// stored in time. That event may still be stored later (it waits in the
// spool or the publisher's queue), so the refusal is recorded after it as
// session.rejected with the same session id: the record then says the
// session was refused, not that it started and never ended. The rejection
// waits for the log like any other event.
func (g *Gateway) refuseUnrecorded(sess *frontdoor.Session, started schemas.SessionStarted, err error) {
	rej := schemas.SessionRejected{SessionID: sess.ID, User: started.User, Database: started.Database, DBUser: started.DBUser,
		DBName: started.DBName, ClientAddr: started.ClientAddr, AgentID: started.AgentID, Params: started.Params, Truncated: started.Truncated}
	var msg pgwire.Error
	if errors.Is(err, eventlog.ErrTooLarge) {
		// Not an outage: the log is up, this event cannot be stored. The
		// rejection leaves the parameters out so that it fits.
		rej.Code = schemas.RejectAuditTooLarge
		rej.Reason = "session.started is larger than the audit event size bound (strict audit mode): session refused before it reached the database"
		rej.Params, rej.Truncated = nil, len(started.Params) > 0 || started.Truncated
		msg = pgwire.Fatal(pgwire.CodeProgramLimitExceeded,
			"Tollgate cannot record this session: its session.started audit event is larger than the audit event size bound (strict audit mode); use fewer or shorter startup parameters")
	} else {
		rej.Code = schemas.RejectAuditUnavailable
		rej.Reason = "the audit log did not store session.started in time (strict audit mode): session refused before it reached the database"
		msg = pgwire.Fatal(pgwire.CodeAuditUnavailable,
			"Tollgate cannot record this session: the audit log is unavailable (strict audit mode); try again shortly")
	}
	g.m.Rejections.WithLabelValues(rej.Code).Inc()
	g.log.Warn().Err(err).Str("session", sess.ID).Str("user", rej.User).Str("code", rej.Code).Msg("session refused: session.started not recorded")
	_ = pgwire.WriteError(sess.Conn, msg)
	g.record(schemas.TypeSessionRejected, rej.Database, rej.User, rej.SessionID, rej)
}

func (g *Gateway) connectUpstream(ctx context.Context, sess *frontdoor.Session) (net.Conn, upstream.Target, error) {
	t, err := g.target(sess.Database.Name)
	if err != nil {
		return nil, t, err
	}
	t.Cert, err = g.certs.get(ctx, sess.DBUser, sess.Database.Name, sess.Identity.User, sess.CertExpiry)
	if err != nil {
		return nil, t, err
	}
	c, err := upstream.Connect(ctx, t, sess.Startup.Raw)
	return c, t, err
}

// cancelHandler matches CancelRequests and records them.
type cancelHandler struct{ g *Gateway }

func (h cancelHandler) HandleCancel(ctx context.Context, from net.Addr, pid uint32, secret []byte) {
	g := h.g
	ev, err := g.cancels.Cancel(ctx, cancel.Key{ProcessID: pid, Secret: secret}, from)
	outcome := "forwarded"
	switch {
	case errors.Is(err, cancel.ErrRateLimited):
		outcome = "rate_limited"
	case errors.Is(err, cancel.ErrNoMatch):
		outcome = "no_match"
	case err != nil:
		outcome = "failed"
	}
	db, user := "", ""
	if ev.SessionID != "" {
		g.mu.Lock()
		if l, ok := g.live[ev.SessionID]; ok {
			db, user = l.sess.Database.Name, l.sess.Identity.User
		}
		g.mu.Unlock()
	}
	g.recordCancel(cancelRecord{ev: ev, db: db, user: user}, outcome)
}

// poke wakes the watcher (a lock or user change was applied).
func (g *Gateway) poke() {
	select {
	case g.pokeCh <- struct{}{}:
	default:
	}
}

// watch ends sessions that a lock now matches, whose cert or session TTL
// expired, or that were idle too long.
func (g *Gateway) watch(ctx context.Context) {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-g.pokeCh:
		}
		g.check(time.Now())
	}
}

func (g *Gateway) check(now time.Time) {
	idle := g.runtime().IdleTimeout
	g.mu.Lock()
	ls := make([]*live, 0, len(g.live))
	for _, l := range g.live {
		ls = append(ls, l)
	}
	g.mu.Unlock()
	if len(ls) == 0 {
		return
	}
	type verdict struct {
		l      *live
		reason string
		err    pgwire.Error
	}
	var out []verdict
	g.state.view(func(st *projections.State) {
		g.refreshPolicies(st, ls, now)
		for _, l := range ls {
			id, ok := access.IdentityFor(st, l.sess.Identity.User, now)
			if !ok {
				out = append(out, verdict{l, schemas.EndLock, pgwire.Fatal(pgwire.CodeAdminShutdown,
					"terminating connection: Tollgate user "+l.sess.Identity.User+" was deleted")})
				continue
			}
			lk := access.LockFor(st, id, l.sess.Database.Name, g.id.AgentID, now)
			if lk == nil {
				lk = access.SessionLockFor(st, l.sess.ID, now)
			}
			if lk != nil {
				out = append(out, verdict{l, schemas.EndLock, pgwire.Fatal(pgwire.CodeAdminShutdown,
					"terminating connection: "+lockMessage(lk))})
				continue
			}
			if req := l.sess.Decision.AccessRequest; req != "" {
				if r, ok := st.AccessRequests[req]; !ok || !r.Granted(now) {
					out = append(out, verdict{l, schemas.EndAccessExpired, pgwire.Fatal(pgwire.CodeAdminShutdown,
						"terminating connection: access request "+req+", which granted role "+l.sess.Decision.DecidedBy+
							" for this session, expired or was dropped: `toll request create` asks again")})
					continue
				}
			}
			if !l.expires.IsZero() && !now.Before(l.expires) {
				out = append(out, verdict{l, schemas.EndCertExpired, pgwire.Fatal(pgwire.CodeAdminShutdown,
					"terminating connection: your Tollgate certificate or session expired: run `toll login` and `toll db login`")})
				continue
			}
			if idle > 0 && now.Sub(time.Unix(0, l.last.Load())) > idle && !g.pub.busy(l.sess.ID) {
				out = append(out, verdict{l, schemas.EndIdle, pgwire.Fatal(pgwire.CodeIdleSessionTimeout,
					fmt.Sprintf("terminating connection: idle for more than %s", idle))})
			}
		}
	})
	for _, v := range out {
		v.l.kill(v.reason, v.err)
	}
}
