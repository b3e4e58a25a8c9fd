package subscriber

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/export"
)

// TestOptionsRejectNonsense: a negative or too short AckWait and a
// StreamNames key that is no stream are errors naming the option, at
// New; zero AckWait is the default.
func TestOptionsRejectNonsense(t *testing.T) {
	t.Parallel()
	cases := []struct {
		opts Options
		want string
	}{
		{Options{AckWait: -time.Second}, "AckWait -1s: use at least 1ms"},
		{Options{AckWait: time.Nanosecond}, "AckWait 1ns: use at least 1ms"},
		{Options{StreamNames: map[string]string{"audits": "X"}}, `StreamNames["audits"]: use "audit" or "control"`},
	}
	cfg := fileSink("opts", filepath.Join(t.TempDir(), "a.jsonl"))
	for _, c := range cases {
		sink, err := NewSink(cfg)
		require.NoError(t, err)
		_, err = New(nil, cfg, sink, c.opts)
		require.ErrorIs(t, err, ErrInvalidOption, c.want)
		require.ErrorContains(t, err, c.want)
		require.NoError(t, sink.Close())
	}
	sink, err := NewSink(cfg)
	require.NoError(t, err)
	defer sink.Close()
	sub, err := New(nil, cfg, sink, Options{StreamNames: map[string]string{export.StreamAudit: "A", export.StreamControl: ""}})
	require.NoError(t, err)
	require.Equal(t, DefaultAckWait, sub.opts.AckWait)
}

// TestNewRejectsABadSink: New and NewSink validate the sink's config as
// Start does, naming the field.
func TestNewRejectsABadSink(t *testing.T) {
	t.Parallel()
	cfg := fileSink("bad", filepath.Join(t.TempDir(), "a.jsonl"))
	cfg.Batch.MaxEvents = -1
	_, err := NewSink(cfg)
	require.ErrorIs(t, err, export.ErrInvalid)
	require.ErrorContains(t, err, "export.sinks[0].batch.max_events:")
	_, err = New(nil, cfg, nil, Options{})
	require.ErrorContains(t, err, "export.sinks[0].batch.max_events:")
}
