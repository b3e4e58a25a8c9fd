package wire

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// Reverse tunnels (issue 17): an agent behind a firewall dials control's
// public port with ALPN ALPNTunnel and its host cert and keeps that
// connection, multiplexed, as its tunnel; a client reaches a database
// served that way by dialing the same port with ALPN ALPNDatabase and its
// user cert, then sending a DatabaseDial frame. Control opens a stream on
// a tunnel of an agent serving the database, writes a TunnelStream frame,
// answers the client with a DialResult frame, and relays bytes it does not read: the client's TLS to the agent runs
// inside, end to end.
const (
	ALPNTunnel   = "tollgate-tunnel/1"
	ALPNDatabase = "tollgate-db/1"
	// TunnelAddr is the public_addr an agent registers its databases with
	// when it serves them through its tunnel only.
	TunnelAddr = "tunnel"
	// MaxFrame bounds a frame's JSON.
	MaxFrame = 4096
)

// DatabaseDial is a client's first frame on an ALPNDatabase connection.
type DatabaseDial struct {
	Database string `json:"database"`
}

// DialResult is control's answer to a DatabaseDial: an empty Error means
// the bytes that follow are the agent's.
type DialResult struct {
	Error string `json:"error,omitempty"`
}

// TunnelStream is control's first frame on each stream of a tunnel.
type TunnelStream struct {
	// ClientAddr is the client's address as control saw it.
	ClientAddr string `json:"client_addr"`
	Database   string `json:"database"`
}

// ErrFrame means a frame was over MaxFrame or not JSON.
var ErrFrame = errors.New("bad tunnel frame")

// WriteFrame writes v as a 2-byte big-endian length and its JSON.
func WriteFrame(w io.Writer, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	if len(b) > MaxFrame {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrFrame, len(b), MaxFrame)
	}
	buf := make([]byte, 2+len(b))
	binary.BigEndian.PutUint16(buf, uint16(len(b)))
	copy(buf[2:], b)
	_, err = w.Write(buf)
	return err
}

// ReadFrame reads one frame into v; its length is checked before it is
// read.
func ReadFrame(r io.Reader, v any) error {
	var n [2]byte
	if _, err := io.ReadFull(r, n[:]); err != nil {
		return err
	}
	l := int(binary.BigEndian.Uint16(n[:]))
	if l > MaxFrame {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrFrame, l, MaxFrame)
	}
	b := make([]byte, l)
	if _, err := io.ReadFull(r, b); err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("%w: %w", ErrFrame, err)
	}
	return nil
}
