package tamper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tollgate-db/tollgate/eventlog"
)

// Option changes how RewriteStream recreates the stream.
type Option func(*jetstream.StreamConfig)

// FirstSeq recreates the stream starting at sequence seq, as if the
// records before it had aged out.
func FirstSeq(seq uint64) Option {
	return func(c *jetstream.StreamConfig) { c.FirstSeq = seq }
}

// RewriteStream starts a plain nats-server with JetStream on storeDir
// (Tollgate stopped), reads every message of stream as an event, and
// replaces the stream's content with what edit returns (in that order).
// It returns the number of messages before and after.
func RewriteStream(ctx context.Context, storeDir, stream string, edit func([]eventlog.Event) []eventlog.Event, opts ...Option) (int, int, error) {
	ns, err := server.NewServer(&server.Options{ServerName: "plain", JetStream: true, StoreDir: storeDir, DontListen: true, NoSigs: true})
	if err != nil {
		return 0, 0, fmt.Errorf("tamper: nats-server: %w", err)
	}
	ns.Start()
	defer func() {
		ns.Shutdown()
		ns.WaitForShutdown()
	}()
	if !ns.ReadyForConnections(30 * time.Second) {
		return 0, 0, errors.New("tamper: nats-server not ready")
	}
	nc, err := nats.Connect("", nats.InProcessServer(ns))
	if err != nil {
		return 0, 0, fmt.Errorf("tamper: connect: %w", err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return 0, 0, err
	}
	st, err := js.Stream(ctx, stream)
	if err != nil {
		return 0, 0, fmt.Errorf("tamper: stream %s: %w", stream, err)
	}
	info, err := st.Info(ctx)
	if err != nil {
		return 0, 0, err
	}
	if err := st.DeleteMsg(ctx, info.State.FirstSeq); err == nil {
		return 0, 0, errors.New("tamper: the stream allowed a message delete (deny_delete is off)")
	}
	var evs []eventlog.Event
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && info.State.Msgs > 0; seq++ {
		m, err := st.GetMsg(ctx, seq)
		if err != nil {
			return 0, 0, fmt.Errorf("tamper: read seq %d: %w", seq, err)
		}
		var ev eventlog.Event
		if err := json.Unmarshal(m.Data, &ev); err != nil {
			return 0, 0, fmt.Errorf("tamper: seq %d: %w", seq, err)
		}
		evs = append(evs, ev)
	}
	before := len(evs)
	kept := edit(evs)
	cfg := info.Config
	for _, o := range opts {
		o(&cfg)
	}
	if err := js.DeleteStream(ctx, stream); err != nil {
		return 0, 0, fmt.Errorf("tamper: delete stream %s: %w", stream, err)
	}
	if _, err := js.CreateStream(ctx, cfg); err != nil {
		return 0, 0, fmt.Errorf("tamper: create stream %s again: %w", stream, err)
	}
	for i := range kept {
		raw, err := Encode(&kept[i])
		if err != nil {
			return 0, 0, err
		}
		if _, err := js.Publish(ctx, kept[i].Subject, raw); err != nil {
			return 0, 0, fmt.Errorf("tamper: publish: %w", err)
		}
	}
	return before, len(kept), nil
}

// Encode is an event's stored JSON (data byte for byte).
func Encode(ev *eventlog.Event) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(ev); err != nil {
		return nil, fmt.Errorf("tamper: encode %s: %w", ev.ID, err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Rechain recomputes every chained event's prev and hash from the event
// before it of the same source (the first of each source keeps its prev):
// what someone who rewrote events does so that the chain links again. It
// cannot recompute a checkpoint's signature.
func Rechain(evs []eventlog.Event) error {
	last := map[string]string{}
	for i := range evs {
		ev := &evs[i]
		if ev.Hash == "" && ev.Seq == 0 {
			continue
		}
		if h, ok := last[ev.Source]; ok {
			ev.Prev = h
		}
		h, err := eventlog.EventHash(ev)
		if err != nil {
			return fmt.Errorf("tamper: rechain: %w", err)
		}
		ev.Hash = h
		last[ev.Source] = h
	}
	return nil
}

// Session returns the session token of an audit event's subject
// (tollgate.audit.<db>.<user>.<session>.<type>), decoded.
func Session(ev *eventlog.Event) string {
	var parts [6]string
	n := 0
	start := 0
	s := ev.Subject
	for i := 0; i <= len(s) && n < len(parts); i++ {
		if i == len(s) || s[i] == '.' {
			parts[n] = s[start:i]
			n++
			start = i + 1
		}
	}
	if n != 6 {
		return ""
	}
	return eventlog.DecodeToken(parts[4])
}

// Without returns evs without those drop says to remove.
func Without(evs []eventlog.Event, drop func(*eventlog.Event) bool) []eventlog.Event {
	out := make([]eventlog.Event, 0, len(evs))
	for i := range evs {
		if !drop(&evs[i]) {
			out = append(out, evs[i])
		}
	}
	return out
}
