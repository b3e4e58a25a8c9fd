package format

import (
	"errors"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/jsonx"
)

// Texter says an event in one line for people (the composition root
// passes internal/auditview's, the one human form of any event).
type Texter func(ev *eventlog.Event) string

// ErrNoTexter: the slack format was asked for without a Texter.
var ErrNoTexter = errors.New("the slack format needs the event's text (a Texter)")

// Slack is a Slack-compatible message per event, {"text": "…"}: what an
// incoming webhook posts to a channel (reviewers learning of an access
// request without polling).
type Slack struct{ Text Texter }

// Name returns "slack".
func (Slack) Name() string { return "slack" }

// Format encodes ev's message.
func (f Slack) Format(ev *eventlog.Event) ([]byte, error) { return f.Append(nil, ev) }

// Append appends ev's message to dst.
func (f Slack) Append(dst []byte, ev *eventlog.Event) ([]byte, error) {
	if f.Text == nil {
		return dst, ErrNoTexter
	}
	dst = append(dst, `{"text":`...)
	dst = jsonx.AppendString(dst, f.Text(ev), false)
	return append(dst, '}'), nil
}
