package eventlog

import (
	"encoding/json"
	"time"
)

// Event is the envelope of every fact in Tollgate. Its JSON form is the
// contract with every consumer (schemas/v1/envelope.schema.json).
//
// ID, Time and Source are set by the caller (from an injectable clock and id
// source), never inside projection code. Seq, Prev and Hash form the
// per-source hash chain and are set only on audit events (see Chain).
type Event struct {
	ID      string          `json:"id"`
	Type    string          `json:"type"`
	V       int             `json:"v"`
	Time    time.Time       `json:"time"`
	Source  string          `json:"source"`
	Actor   string          `json:"actor,omitempty"`
	Subject string          `json:"subject"`
	Data    json.RawMessage `json:"data"`

	Seq  uint64 `json:"seq,omitempty"`
	Prev string `json:"prev,omitempty"`
	Hash string `json:"hash,omitempty"`
}

// Record is an Event as stored in a stream, with the stream's own sequence.
type Record struct {
	StreamSeq uint64
	Event     Event
}
