package control

import (
	"context"
	"errors"
	"fmt"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
)

var errUnavailable = eventlog.ErrUnavailable

// change is one command: check runs against the current projection and
// returns the event data (or an *Error); the event is appended on
// tollgate.control.<kind>.<name> expecting the subject's last sequence seen
// in that same state, and change returns once the projection applied it.
// A concurrent change of the same entity is a CodeConflict error (409 at
// the API): "<kind> <name> changed concurrently; retry".
func (s *Service) change(ctx context.Context, actor, kind, name, typ string, check func(st *projections.State) (any, error)) (uint64, error) {
	subject := eventlog.ControlSubject(kind, name)
	var (
		data   any
		expect uint64
		err    error
	)
	s.View(func(st *projections.State) {
		data, err = check(st)
		expect = st.SubjectSeq[subject]
	})
	if err != nil {
		return 0, err
	}
	ev, err := s.builder.Build(typ, 1, actor, subject, data)
	if err != nil {
		return 0, err
	}
	return s.appendControl(ctx, ev, kind, name, eventlog.ExpectLastSubjectSeq(expect))
}

func (s *Service) appendControl(ctx context.Context, ev eventlog.Event, kind, name string, opts ...eventlog.AppendOption) (uint64, error) {
	if s.cfg.Validator != nil {
		if err := s.cfg.Validator.Validate(&ev); err != nil {
			return 0, fmt.Errorf("validate %s event: %w", ev.Type, err)
		}
	}
	seq, err := s.cfg.Control.Append(ctx, ev, opts...)
	if errors.Is(err, eventlog.ErrConflict) {
		return 0, &Error{Code: CodeConflict,
			Message: fmt.Sprintf("%s %s changed concurrently; retry", kind, name), Err: err}
	}
	if err != nil {
		return 0, fmt.Errorf("append %s: %w", ev.Type, err)
	}
	if err := s.WaitSeq(ctx, seq); err != nil {
		return 0, err
	}
	return seq, nil
}
