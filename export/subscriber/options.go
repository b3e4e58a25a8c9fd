package subscriber

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/format"
)

// DefaultAckWait is how long JetStream waits for an ack before
// redelivering; the subscriber extends it while it retries.
const DefaultAckWait = 60 * time.Second

// MinAckWait is the shortest AckWait: the subscriber tells JetStream a
// batch it retries is in progress every third of it.
const MinAckWait = time.Millisecond

// ErrInvalidOption marks Options that cannot work; the message names the
// option.
var ErrInvalidOption = errors.New("invalid export subscriber option")

// Options are a subscriber's collaborators.
type Options struct {
	Logger zerolog.Logger
	// Registerer receives the metrics; nil registers none.
	Registerer prometheus.Registerer
	// AckWait of the durable consumers: 0 for DefaultAckWait, else at
	// least MinAckWait.
	AckWait time.Duration
	// StreamNames maps export.StreamAudit / export.StreamControl to
	// JetStream stream names (default, or "": eventlog.AuditStream /
	// eventlog.ControlStream).
	StreamNames map[string]string
	// Text says an event in one line, for the slack format.
	Text format.Texter
}

// validate fills the default AckWait and refuses what cannot work: a
// negative or too short AckWait, a StreamNames key that is no stream.
func (o *Options) validate() error {
	switch {
	case o.AckWait == 0:
		o.AckWait = DefaultAckWait
	case o.AckWait < MinAckWait:
		return fmt.Errorf("%w: AckWait %s: use at least %s (0: the default, %s)", ErrInvalidOption, o.AckWait, MinAckWait, DefaultAckWait)
	}
	for k := range o.StreamNames {
		if k != export.StreamAudit && k != export.StreamControl {
			return fmt.Errorf("%w: StreamNames[%q]: use %q or %q", ErrInvalidOption, k, export.StreamAudit, export.StreamControl)
		}
	}
	return nil
}
