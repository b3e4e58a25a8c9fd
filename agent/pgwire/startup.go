package pgwire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"

	"github.com/jackc/pgproto3/v2"
)

// Request codes of untyped startup packets.
const (
	CodeSSLRequest    = 80877103
	CodeGSSENCRequest = 80877104
	CodeCancelRequest = 80877102
	// ProtocolVersion3 is protocol 3.0 in a StartupMessage.
	ProtocolVersion3 = 196608
)

// StartupKind tells which startup packet was read.
type StartupKind int

// Startup packet kinds.
const (
	KindStartupMessage StartupKind = iota + 1
	KindSSLRequest
	KindGSSENCRequest
	KindCancelRequest
)

func (k StartupKind) String() string {
	switch k {
	case KindStartupMessage:
		return "StartupMessage"
	case KindSSLRequest:
		return "SSLRequest"
	case KindGSSENCRequest:
		return "GSSENCRequest"
	case KindCancelRequest:
		return "CancelRequest"
	}
	return "unknown"
}

// Startup is one decoded startup packet.
type Startup struct {
	Kind StartupKind
	// Raw is the whole packet, length included (owned by the Startup):
	// forward it to the server unchanged.
	Raw []byte
	// Params holds a StartupMessage's parameters (user, database, options,
	// replication, application_name, ...).
	Params map[string]string
	// ProcessID and SecretKey are a CancelRequest's key.
	ProcessID, SecretKey uint32
}

// ReadStartup reads one startup packet (no type byte: int32 length, int32
// code, payload). The length is checked against MaxStartup before
// allocation. Errors: io.EOF at a clean end, io.ErrUnexpectedEOF,
// ErrFrameTooLarge, ErrMalformed, ErrUnsupportedProtocol (as *FrameError).
func ReadStartup(br *bufio.Reader) (*Startup, error) {
	hdr, err := br.Peek(4)
	if err != nil {
		if errors.Is(err, io.EOF) && len(hdr) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	n := int64(binary.BigEndian.Uint32(hdr))
	if n > MaxStartup {
		return nil, &FrameError{Startup: true, Length: n, Max: MaxStartup, Err: ErrFrameTooLarge}
	}
	if n < 8 {
		return nil, &FrameError{Startup: true, Length: n, Max: MaxStartup, Reason: "invalid length", Err: ErrMalformed}
	}
	raw := make([]byte, n)
	if _, err := io.ReadFull(br, raw); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	return ParseStartup(raw)
}

// ParseStartup decodes a whole startup packet (length included). The
// returned Startup keeps raw.
func ParseStartup(raw []byte) (*Startup, error) {
	if len(raw) < 8 || len(raw) > MaxStartup {
		return nil, &FrameError{Startup: true, Length: int64(len(raw)), Max: MaxStartup, Reason: "invalid length", Err: ErrMalformed}
	}
	if int(binary.BigEndian.Uint32(raw)) != len(raw) {
		return nil, malformedStartup("length does not match the packet")
	}
	code := binary.BigEndian.Uint32(raw[4:8])
	s := &Startup{Raw: raw}
	switch code {
	case CodeSSLRequest, CodeGSSENCRequest:
		if len(raw) != 8 {
			return nil, malformedStartup("request with a payload")
		}
		s.Kind = KindSSLRequest
		if code == CodeGSSENCRequest {
			s.Kind = KindGSSENCRequest
		}
	case CodeCancelRequest:
		var m pgproto3.CancelRequest
		if err := Decode(&m, raw[4:]); err != nil {
			return nil, malformedStartup("cancel request: " + err.Error())
		}
		s.Kind, s.ProcessID, s.SecretKey = KindCancelRequest, m.ProcessID, m.SecretKey
	case ProtocolVersion3:
		var m pgproto3.StartupMessage
		if err := Decode(&m, raw[4:]); err != nil {
			return nil, malformedStartup("startup message: " + err.Error())
		}
		s.Kind, s.Params = KindStartupMessage, m.Parameters
	default:
		return nil, &FrameError{Startup: true, Length: int64(len(raw)), Reason: "unknown protocol or request code", Err: ErrUnsupportedProtocol}
	}
	return s, nil
}
