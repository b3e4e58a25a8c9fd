package eventlog_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/logtest"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
)

var errBadType = errors.New("unknown event type")

type typeValidator struct{}

func (typeValidator) Validate(ev *eventlog.Event) error {
	if ev.Type != "role.created" {
		return errBadType
	}
	return nil
}

func TestWithValidator(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	inner := memlog.New(eventlog.ControlStream)
	st := eventlog.WithValidator(inner, typeValidator{})
	require.Equal(t, eventlog.ControlStream, st.Name())
	good := eventlog.Event{ID: "1", Type: "role.created", Subject: "tollgate.control.role.a", Data: json.RawMessage(`{}`)}
	bad := eventlog.Event{ID: "2", Type: "nope", Subject: "tollgate.control.role.a", Data: json.RawMessage(`{}`)}

	seq, err := st.Append(ctx, good)
	require.NoError(t, err)
	require.Equal(t, uint64(1), seq)
	_, err = st.Append(ctx, bad)
	require.ErrorIs(t, err, errBadType)
	require.ErrorContains(t, err, "validate event")

	good2 := good
	good2.ID = "3"
	_, err = st.AppendBatch(ctx, []eventlog.Event{good2, bad})
	require.ErrorIs(t, err, errBadType)
	last, err := inner.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(1), last, "nothing of an invalid batch is stored")

	seqs, err := st.AppendBatch(ctx, []eventlog.Event{good2})
	require.NoError(t, err)
	require.Equal(t, []uint64{2}, seqs)

	// AppendEncoded is validated too (the agent's publisher uses it).
	good3 := good
	good3.ID = "4"
	enc := func(evs ...eventlog.Event) [][]byte {
		var raw [][]byte
		for i := range evs {
			raw = append(raw, eventlog.AppendJSON(nil, &evs[i], true))
		}
		return raw
	}
	err = st.AppendEncoded(ctx, []eventlog.Event{good3, bad}, enc(good3, bad))
	require.ErrorIs(t, err, errBadType)
	last, err = inner.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(2), last, "nothing of an invalid encoded batch is stored")
	require.NoError(t, st.AppendEncoded(ctx, []eventlog.Event{good3}, enc(good3)))
	last, err = inner.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, uint64(3), last)
}

// acceptAll is a validator that refuses nothing.
type acceptAll struct{}

func (acceptAll) Validate(*eventlog.Event) error { return nil }

// TestWithValidatorConformance: the wrapper is a whole Stream, every role
// of it passed through.
func TestWithValidatorConformance(t *testing.T) {
	t.Parallel()
	logtest.Run(t, func(t *testing.T, name string) eventlog.Stream {
		return eventlog.WithValidator(memlog.New(name), acceptAll{})
	})
}
