package format

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
)

// TestSlackIsOneMessageAnEvent: the slack format is {"text": …} with the
// Texter's line, escaped as JSON; without a Texter it refuses.
func TestSlackIsOneMessageAnEvent(t *testing.T) {
	t.Parallel()
	_, err := New("slack", nil)
	require.ErrorIs(t, err, ErrNoTexter)
	f, err := New("slack", func(ev *eventlog.Event) string { return ev.Type + ` "quoted" <b> \ ` + "\n" })
	require.NoError(t, err)
	ev := samples()["access_request.created"]
	doc, err := f.Format(&ev)
	require.NoError(t, err)
	var m map[string]string
	require.NoError(t, json.Unmarshal(doc, &m))
	require.Equal(t, map[string]string{"text": "access_request.created \"quoted\" <b> \\ \n"}, m)
}
