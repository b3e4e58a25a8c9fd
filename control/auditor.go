package control

import (
	"context"
	"sync"

	"github.com/tollgate-db/tollgate/eventlog"
)

// auditor appends control's audit events (auth.login, cert.issued) to
// TOLLGATE_AUDIT, one at a time so that the per-source chain stays ordered.
type auditor struct {
	s       *Service
	mu      sync.Mutex
	chainer *eventlog.Chainer
	// checkpointed is the chain sequence of control's last checkpoint
	// (checkpoint.go): the head has not moved while it is the head.
	checkpointed uint64
	// headStreamSeq is the stream sequence of the chain's head, which the next
	// append expects to be ChainFilter's last record (appendChained).
	headStreamSeq uint64
}

func newAuditor(s *Service) *auditor { return &auditor{s: s} }

// emit appends one audit event; a failure is logged (without data), never
// returned, since the action it records already happened or was refused.
func (a *auditor) emit(ctx context.Context, typ, db, user, actor string, data any) {
	a.mu.Lock()
	defer a.mu.Unlock()
	ev, err := a.s.builder.Build(typ, 1, actor, eventlog.AuditSubject(db, user, ChainSession, typ), data)
	if err == nil {
		_, err = a.appendChained(context.WithoutCancel(ctx), ev)
	}
	if err != nil {
		a.s.log.Error().Err(err).Str("type", typ).Str("user", user).Msg("append audit event")
	}
}
