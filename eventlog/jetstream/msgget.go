package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// A stream's leader is the only replica sure to hold every acknowledged
// record. A direct get (what nats.go uses for a stream that allows direct)
// may be answered by any replica that is nearly current, and a consumer
// (R1, ephemeral) is placed on any replica and counts what is pending in
// that replica's copy: either may miss a record just acknowledged. What a
// caller relies on as the stream's latest (a conditional append's
// expectation, the head a chain resumes from, whether a read has seen
// everything) is asked of the leader through the stream message get API
// ($JS.API.STREAM.MSG.GET.<stream>), here.

// msgGetRequest is a stream message get request: the last message on
// LastFor, or the first at Seq or later (at StartTime or later) on NextFor.
type msgGetRequest struct {
	Seq       uint64     `json:"seq,omitempty"`
	LastFor   string     `json:"last_by_subj,omitempty"`
	NextFor   string     `json:"next_by_subj,omitempty"`
	StartTime *time.Time `json:"start_time,omitempty"`
}

// storedMsg is what a message get tells of one stored message.
type storedMsg struct {
	seq    uint64
	time   time.Time
	msgID  string // its Nats-Msg-Id header
	source string // its Nats-Stream-Source header (a sourced message)
}

// codeNoMessage is JetStream's "no message found" API error.
const codeNoMessage = 10037

// msgGetAttempts and msgGetTimeout bound msgGet's requests.
const (
	msgGetAttempts = 5
	msgGetTimeout  = 2 * time.Second
)

// msgGet asks the leader of stream name (through js) for one message;
// found is false when none matches. A cluster between leaders drops the
// request, and a server reconnecting has nobody to answer it: a request
// unanswered for msgGetTimeout, or with no responders, is asked again, up
// to msgGetAttempts times in all.
func msgGet(ctx context.Context, js jetstream.JetStream, name string, r msgGetRequest) (m storedMsg, found bool, err error) {
	req, err := json.Marshal(r)
	if err != nil {
		return storedMsg{}, false, err
	}
	api := apiPrefix(js) + "STREAM.MSG.GET." + name
	wait := 50 * time.Millisecond
	for attempt := 1; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, msgGetTimeout)
		reply, err := js.Conn().RequestWithContext(actx, api, req)
		cancel()
		if err == nil {
			return decodeMsgGet(reply.Data)
		}
		unanswered := errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil
		if attempt == msgGetAttempts || !(unanswered || errors.Is(err, nats.ErrNoResponders)) {
			return storedMsg{}, false, err
		}
		if !unanswered {
			select {
			case <-ctx.Done():
				return storedMsg{}, false, err
			case <-time.After(wait):
			}
			wait *= 2
		}
	}
}

// decodeMsgGet reads a stream message get response.
func decodeMsgGet(data []byte) (storedMsg, bool, error) {
	var resp struct {
		Error   *jetstream.APIError `json:"error"`
		Message *struct {
			Seq  uint64    `json:"seq"`
			Time time.Time `json:"time"`
			Hdrs []byte    `json:"hdrs"`
		} `json:"message"`
	}
	if err := json.Unmarshal(data, &resp); err != nil {
		return storedMsg{}, false, fmt.Errorf("stream message get response: %w", err)
	}
	if resp.Error != nil {
		if resp.Error.ErrorCode == codeNoMessage {
			return storedMsg{}, false, nil
		}
		return storedMsg{}, false, resp.Error
	}
	if resp.Message == nil {
		return storedMsg{}, false, jetstream.ErrInvalidJetStreamResponse
	}
	m := storedMsg{seq: resp.Message.Seq, time: resp.Message.Time}
	if len(resp.Message.Hdrs) > 0 {
		h, err := nats.DecodeHeadersMsg(resp.Message.Hdrs)
		if err != nil {
			return storedMsg{}, false, fmt.Errorf("stream message get headers: %w", err)
		}
		m.msgID = h.Get(jetstream.MsgIDHeader)
		m.source = h.Get(sourceHeader)
	}
	return m, true, nil
}

// apiPrefix is js's JetStream API prefix ($JS.API., a domain's or a set
// one), ending in a dot.
func apiPrefix(js jetstream.JetStream) string {
	o := js.Options()
	switch {
	case o.APIPrefix != "":
		if strings.HasSuffix(o.APIPrefix, ".") {
			return o.APIPrefix
		}
		return o.APIPrefix + "."
	case o.Domain != "":
		return "$JS." + o.Domain + ".API."
	}
	return "$JS.API."
}

// leaderHolds reports whether the leader holds a record c's read has not
// delivered: one at c.next or later, up to c.upper, on one of its
// subjects, stored inside its time bounds. A consumer that counted
// nothing more pending in a lagging replica's copy has then ended early.
func (s *Stream) leaderHolds(ctx context.Context, c *cursor) (bool, error) {
	if c.upper == 0 || c.next > c.upper {
		return false, nil
	}
	subjects := c.q.Subjects
	if len(subjects) == 0 {
		subjects = []string{">"}
	}
	for _, subj := range subjects {
		r := msgGetRequest{Seq: c.next, NextFor: subj}
		if !c.q.FromTime.IsZero() && c.n == 0 && c.q.FromSeq == 0 {
			t := c.q.FromTime
			r.Seq, r.StartTime = 0, &t
		}
		// Stored times need not rise with sequences: step over records
		// before FromTime a few times, then count one as held (a restarted
		// consumer sorts it out).
		for step := 0; ; step++ {
			m, found, err := msgGet(ctx, s.js, s.name, r)
			if err != nil {
				return false, fmt.Errorf("read %s: ask the leader: %w", s.name, mapErr(err))
			}
			if !found || m.seq > c.upper || (!c.q.ToTime.IsZero() && m.time.After(c.q.ToTime)) {
				break
			}
			if c.q.FromTime.IsZero() || !m.time.Before(c.q.FromTime) || step == 8 {
				return true, nil
			}
			r.Seq, r.StartTime = m.seq+1, nil
		}
	}
	return false, nil
}
