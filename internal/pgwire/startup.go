package pgwire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Request codes of untyped startup packets.
const (
	CodeSSLRequest    = 80877103
	CodeGSSENCRequest = 80877104
	CodeCancelRequest = 80877102
	// ProtocolVersion3 is protocol 3.0 in a StartupMessage.
	ProtocolVersion3 = 3 << 16
	// ProtocolVersion32 is protocol 3.2 (PostgreSQL 18): variable-length
	// cancel keys.
	ProtocolVersion32 = 3<<16 | 2
)

// MaxCancelKey is the longest secret key of a BackendKeyData or a
// CancelRequest (protocol 3.2; 3.0 keys are 4 bytes).
const MaxCancelKey = 256

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
	// Version is a StartupMessage's protocol version (major<<16 | minor):
	// any 3.x is accepted, and passed on as asked; the server answers a
	// minor version or `_pq_.` options it lacks with
	// NegotiateProtocolVersion.
	Version uint32
	// Params holds a StartupMessage's parameters (user, database, options,
	// replication, application_name, _pq_.*, ...).
	Params map[string]string
	// ProcessID and SecretKey are a CancelRequest's key. SecretKey is 4
	// bytes in protocol 3.0 and up to MaxCancelKey in 3.2; it aliases Raw.
	ProcessID uint32
	SecretKey []byte
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
	switch {
	case code == CodeSSLRequest || code == CodeGSSENCRequest:
		if len(raw) != 8 {
			return nil, malformedStartup("request with a payload")
		}
		s.Kind = KindSSLRequest
		if code == CodeGSSENCRequest {
			s.Kind = KindGSSENCRequest
		}
	case code == CodeCancelRequest:
		// Int32 pid, then the key to the end of the packet: 4 bytes in
		// 3.0, up to 256 in 3.2 (PostgreSQL 18 accepts 1..256).
		key := raw[8:]
		if len(key) < 4+1 || len(key) > 4+MaxCancelKey {
			return nil, malformedStartup(fmt.Sprintf("cancel request: a key of %d bytes (want 1 to %d)", len(key)-4, MaxCancelKey))
		}
		s.Kind, s.ProcessID, s.SecretKey = KindCancelRequest, binary.BigEndian.Uint32(key), key[4:len(key):len(key)]
	case code>>16 == 3:
		params, err := parseParams(raw[8:])
		if err != nil {
			return nil, malformedStartup("startup message: " + err.Error())
		}
		s.Kind, s.Version, s.Params = KindStartupMessage, code, params
	default:
		return nil, &FrameError{Startup: true, Length: int64(len(raw)), Reason: "unknown protocol or request code", Err: ErrUnsupportedProtocol}
	}
	return s, nil
}

// parseParams decodes a StartupMessage's parameters: name\0value\0 pairs
// ended by a zero byte, which must be the last (as PostgreSQL checks). A
// later value of a name replaces an earlier one.
func parseParams(b []byte) (map[string]string, error) {
	params := map[string]string{}
	for {
		i := bytes.IndexByte(b, 0)
		if i < 0 {
			return nil, errors.New("no terminator")
		}
		if i == 0 {
			if len(b) != 1 {
				return nil, errors.New("bytes after the terminator")
			}
			return params, nil
		}
		name := string(b[:i])
		b = b[i+1:]
		j := bytes.IndexByte(b, 0)
		if j < 0 {
			return nil, fmt.Errorf("parameter %q has no value", name)
		}
		params[name] = string(b[:j])
		b = b[j+1:]
	}
}

// VersionString formats a protocol version as "3.2".
func VersionString(v uint32) string { return fmt.Sprintf("%d.%d", v>>16, v&0xffff) }

// ParseBackendKeyData decodes a BackendKeyData body: the process id and
// the secret key to its end (4 bytes in protocol 3.0, up to MaxCancelKey
// in 3.2). secret aliases body.
func ParseBackendKeyData(body []byte) (pid uint32, secret []byte, err error) {
	if len(body) < 4+1 || len(body) > 4+MaxCancelKey {
		return 0, nil, &FrameError{Type: byte(ServerBackendKeyData), typed: true, Length: int64(len(body) + 4),
			Reason: fmt.Sprintf("BackendKeyData with a key of %d bytes (want 1 to %d)", len(body)-4, MaxCancelKey), Err: ErrMalformed}
	}
	return binary.BigEndian.Uint32(body), body[4:len(body):len(body)], nil
}

// AppendBackendKeyData appends a BackendKeyData message.
func AppendBackendKeyData(dst []byte, pid uint32, secret []byte) []byte {
	dst = append(dst, byte(ServerBackendKeyData))
	dst = binary.BigEndian.AppendUint32(dst, uint32(4+4+len(secret)))
	dst = binary.BigEndian.AppendUint32(dst, pid)
	return append(dst, secret...)
}

// AppendCancelRequest appends a CancelRequest packet.
func AppendCancelRequest(dst []byte, pid uint32, secret []byte) []byte {
	dst = binary.BigEndian.AppendUint32(dst, uint32(4+4+4+len(secret)))
	dst = binary.BigEndian.AppendUint32(dst, CodeCancelRequest)
	dst = binary.BigEndian.AppendUint32(dst, pid)
	return append(dst, secret...)
}
