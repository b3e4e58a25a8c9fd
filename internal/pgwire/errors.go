package pgwire

import (
	"errors"
	"fmt"
)

var (
	// ErrFrameTooLarge means a frame's declared length exceeds the limit.
	// Nothing was allocated for it; the connection must be closed.
	ErrFrameTooLarge = errors.New("pgwire: frame exceeds the maximum message size")
	// ErrMalformed means the bytes are not a valid frame or message.
	ErrMalformed = errors.New("pgwire: malformed message")
	// ErrUnsupportedProtocol means a startup packet asked for a protocol
	// other than 3.x (or carried an unknown request code).
	ErrUnsupportedProtocol = errors.New("pgwire: unsupported protocol version")
)

// FrameError describes a frame that was refused. It unwraps to
// ErrFrameTooLarge, ErrMalformed or ErrUnsupportedProtocol. Its text names
// what was refused: the startup packet, or a message after the startup
// (by its type byte when the framing saw it).
type FrameError struct {
	// Type is the message type byte (0 for a startup packet, which has
	// none, or when the error came from decoding a message body).
	Type byte
	// Startup is set for an error in a startup packet (SSLRequest,
	// GSSENCRequest, CancelRequest, StartupMessage).
	Startup bool
	// typed is set by Reader.Next: Type is the frame's type byte, even 0.
	typed bool
	// Length is the declared length (including the 4 length bytes).
	Length int64
	// Max is the limit in force.
	Max    int
	Reason string
	Err    error
}

func (e *FrameError) Error() string {
	t := "message"
	switch {
	case e.Startup:
		t = "startup packet"
	case e.Type != 0 || e.typed:
		t = fmt.Sprintf("message %q", e.Type)
	}
	if errors.Is(e.Err, ErrFrameTooLarge) {
		return fmt.Sprintf("%s: %s declares %d bytes, limit %d", e.Err, t, e.Length, e.Max)
	}
	if e.Reason != "" {
		if t == "message" {
			// The reason names the message (e.g. "Bind: …").
			return fmt.Sprintf("%s: %s", e.Err, e.Reason)
		}
		return fmt.Sprintf("%s: %s: %s", e.Err, t, e.Reason)
	}
	return fmt.Sprintf("%s: %s", e.Err, t)
}

func (e *FrameError) Unwrap() error { return e.Err }

// malformedStartup is an ErrMalformed FrameError of a startup packet.
func malformedStartup(reason string) error {
	return &FrameError{Startup: true, Reason: reason, Err: ErrMalformed}
}
