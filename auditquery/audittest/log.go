package audittest

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/internal/testclock"
)

// T0 is the time the logs start at.
var T0 = time.Date(2025, 3, 14, 9, 0, 0, 0, time.UTC)

// Log is an in-memory stream whose events are added at offsets from T0,
// stored at their own time; on the audit stream they are chained.
type Log struct {
	S     *memlog.Stream
	tb    testing.TB
	clock *testclock.Clock // memlog stores each event at the time set before append
	chain *eventlog.Chainer
	n     int
}

// NewLog returns an empty stream called name (eventlog.AuditStream or
// eventlog.ControlStream).
func NewLog(tb testing.TB, name string) *Log {
	c := testclock.New(T0)
	return &Log{tb: tb, S: memlog.New(name, memlog.WithClock(c)), clock: c, chain: eventlog.NewChainer(0, "")}
}

// Add appends an event of type typ on subject at T0+at, with data as its
// JSON data, by actor alice from source agent-1; its id is the stream's
// name and its number.
func (l *Log) Add(at time.Duration, typ, subject string, data any) {
	l.n++
	raw, err := json.Marshal(data)
	require.NoError(l.tb, err)
	ev := eventlog.Event{ID: fmt.Sprintf("%s-%04d", l.S.Name(), l.n), Type: typ, V: 1, Time: T0.Add(at), Source: "agent-1",
		Actor: "alice", Subject: subject, Data: raw}
	if l.S.Name() == eventlog.AuditStream {
		require.NoError(l.tb, l.chain.Next(&ev))
	}
	l.clock.Set(ev.Time)
	_, err = l.S.Append(context.Background(), ev)
	require.NoError(l.tb, err)
}

// Audit appends an audit event of database db, user and session sess.
func (l *Log) Audit(at time.Duration, db, user, sess, typ string, data any) {
	l.Add(at, typ, eventlog.AuditSubject(db, user, sess, typ), data)
}
