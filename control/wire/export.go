package wire

import "time"

// ExportStatus is GET /v1/export/status: the export subscribers running in
// control's process.
type ExportStatus struct {
	// Configured is false when the node has no export sinks configured.
	Configured bool         `json:"configured"`
	Sinks      []ExportSink `json:"sinks"`
}

// ExportSink is one sink's state.
type ExportSink struct {
	Name    string         `json:"name"`
	Type    string         `json:"type"`
	Format  string         `json:"format"`
	Streams []ExportStream `json:"streams"`
}

// ExportStream is one durable consumer of a sink.
type ExportStream struct {
	Stream   string `json:"stream"`
	Consumer string `json:"consumer"`
	// DeliveredSeq is the last stream sequence delivered to the sink,
	// AckedSeq the one up to which the sink accepted every event.
	DeliveredSeq uint64 `json:"delivered_seq"`
	AckedSeq     uint64 `json:"acked_seq"`
	// Lag is the events not yet accepted: pending plus delivered-unacked.
	Lag uint64 `json:"lag"`
	// Exported counts events accepted since the node started.
	Exported    uint64    `json:"exported"`
	Retrying    bool      `json:"retrying"`
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	LastSuccess time.Time `json:"last_success,omitzero"`
}
