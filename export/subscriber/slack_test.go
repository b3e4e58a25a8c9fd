package subscriber

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	tjs "github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sink/httpsink"
	"github.com/tollgate-db/tollgate/internal/auditview"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestSlackWebhookSaysEachAccessRequest: a webhook sink with format slack
// and a type filter posts each new access request from the control stream
// as its own Slack message ({"text": …}, the one human form of the event),
// without an HMAC secret, and nothing else.
func TestSlackWebhookSaysEachAccessRequest(t *testing.T) {
	t.Parallel()
	e := startEnv(t)
	ctx := context.Background()
	ctl, err := tjs.NewStream(ctx, e.js, eventlog.ControlStream)
	require.NoError(t, err)
	var (
		mu    sync.Mutex
		texts []string
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var m map[string]string
		if json.Unmarshal(b, &m) != nil || len(m) != 1 {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		mu.Lock()
		texts = append(texts, m["text"])
		mu.Unlock()
	}))
	defer srv.Close()
	cfg := export.SinkConfig{Name: "reviewers", Type: httpsink.TypeWebhook, Format: export.FormatSlack,
		Streams: []string{export.StreamControl}, Filter: export.Filter{Types: []string{schemas.TypeAccessRequestCreated}},
		Settings: &httpsink.Config{URL: srv.URL}, Batch: export.Batch{MaxEvents: 10, MaxWait: 20 * time.Millisecond}}
	sink, err := NewSink(cfg)
	require.NoError(t, err)
	sub, err := New(e.js, cfg, sink, Options{Logger: zerolog.Nop(), Text: auditview.Sentence})
	require.NoError(t, err)
	stop := run(t, sub)
	defer stop()

	at := time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC)
	add := func(id, typ, kind, name string, data any) {
		raw, err := json.Marshal(data)
		require.NoError(t, err)
		_, err = ctl.Append(ctx, eventlog.Event{ID: id, Type: typ, V: 1, Time: at, Source: "control", Actor: "alice",
			Subject: eventlog.ControlSubject(kind, name), Data: raw})
		require.NoError(t, err)
	}
	add("ev1", schemas.TypeUserCreated, eventlog.KindUser, "alice", schemas.UserCreated{User: schemas.User{Name: "alice", Roles: []string{"requester"}}})
	for _, id := range []string{"r1", "r2"} {
		add("ev-"+id, schemas.TypeAccessRequestCreated, eventlog.KindAccessRequest, id,
			schemas.AccessRequestCreated{ID: id, User: "alice", Roles: []string{"dba"}, Reason: "incident 42", Duration: "1h0m0s", Approve: 1, Deny: 1})
	}
	add("ev3", schemas.TypeAccessRequestApproved, eventlog.KindAccessRequest, "r1", schemas.AccessRequestApproved{ID: "r1", Expires: at.Add(time.Hour)})
	require.Eventually(t, func() bool { mu.Lock(); defer mu.Unlock(); return len(texts) >= 2 }, 20*time.Second, 20*time.Millisecond)
	require.Eventually(t, func() bool { return sub.Status(ctx).Streams[0].Lag == 0 }, 20*time.Second, 20*time.Millisecond)
	mu.Lock()
	defer mu.Unlock()
	require.Equal(t, []string{
		`Tollgate access_request.created (alice): access request r1: alice asks for dba for 1h0m0s ("incident 42")`,
		`Tollgate access_request.created (alice): access request r2: alice asks for dba for 1h0m0s ("incident 42")`,
	}, texts)
}
