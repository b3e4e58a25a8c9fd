package schemas_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// A malformed control event is refused at append, with an error naming the
// field, and nothing is stored.
func TestMalformedControlEventRefusedAtAppend(t *testing.T) {
	t.Parallel()
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	ctx := context.Background()
	s := eventlog.WithValidator(memlog.New(eventlog.ControlStream), v)
	ev := eventlog.Event{
		ID: "01JTESTMALFORMED0000000000", Type: schemas.TypeUserCreated, V: 1,
		Time: time.Date(2026, 11, 24, 9, 0, 0, 0, time.UTC), Source: "control", Actor: "admin",
		Subject: eventlog.ControlSubject(eventlog.KindUser, "alice"),
		Data:    json.RawMessage(`{"roles":["access"]}`), // no name
	}
	_, err = s.Append(ctx, ev)
	require.Error(t, err)
	var ve *schemas.ValidationError
	require.True(t, errors.As(err, &ve), "%v", err)
	require.Contains(t, err.Error(), "/data")
	require.Contains(t, err.Error(), "name")
	last, err := s.LastSeq(ctx)
	require.NoError(t, err)
	require.Zero(t, last, "nothing stored")

	ev.Data = json.RawMessage(`{"name":"alice","roles":["access"]}`)
	seq, err := s.Append(ctx, ev)
	require.NoError(t, err)
	require.Equal(t, uint64(1), seq)
}
