package pgwire

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
)

// Limits on frame sizes.
const (
	// DefaultMaxMessage is the default limit on a typed message's body.
	DefaultMaxMessage = 64 << 20
	// MaxStartup is the limit on a startup packet, length included
	// (PostgreSQL's own MAX_STARTUP_PACKET_LENGTH).
	MaxStartup = 10000 + 240
	// HeaderLen is the size of a typed message header (type + length).
	HeaderLen = 5
)

// spareLimit is the capacity above which the reader drops its spare buffer
// after a large frame instead of keeping it for reuse.
const spareLimit = 1 << 20

// Reader reads typed messages from one side of a connection with bounded
// framing: the declared length is checked against the limit before
// anything is allocated. T is the side's message type: a Reader of a
// client's frames (NewClientReader) returns ClientMsg types, one of a
// server's (NewServerReader) ServerMsg types.
//
// The slices returned by Next and Raw reference either the bufio.Reader's
// buffer or the Reader's own reusable buffer: they are valid only until the
// next call to Next. Copy whatever must outlive it.
type Reader[T MsgType] struct {
	br    *bufio.Reader
	max   int
	spare []byte
	raw   []byte
	// budget, when set, is acquired for frames larger than br's buffer;
	// held is what the last frame holds until the next call to Next.
	budget *Budget
	held   int64
}

// SetBudget makes frames larger than the reader's buffer wait for room in
// b before they are allocated (nil: no bound beyond the frame limit).
func (r *Reader[T]) SetBudget(b *Budget) { r.budget = b }

// Release gives back what the last frame holds of the budget; Next does it
// too. Call it when the frame is done with and the next read may block.
func (r *Reader[T]) Release() {
	if r.held > 0 {
		r.budget.release(r.held)
		r.held = 0
	}
}

// NewClientReader returns a Reader of a client's messages over br,
// accepting bodies up to max bytes (0: DefaultMaxMessage). A negative max
// is a programming error, as for time.NewTicker: it panics (the
// configurations that carry it refuse it with an error first).
func NewClientReader(br *bufio.Reader, max int) *Reader[ClientMsg] {
	return newReader[ClientMsg](br, max)
}

// NewServerReader returns a Reader of a server's messages over br, with
// max as for NewClientReader.
func NewServerReader(br *bufio.Reader, max int) *Reader[ServerMsg] {
	return newReader[ServerMsg](br, max)
}

func newReader[T MsgType](br *bufio.Reader, max int) *Reader[T] {
	if max < 0 {
		panic("pgwire: negative maximum message size")
	}
	if max == 0 {
		max = DefaultMaxMessage
	}
	return &Reader[T]{br: br, max: max}
}

// Next reads one typed message and returns its type and body. At a clean end
// of input it returns io.EOF; a frame cut short returns io.ErrUnexpectedEOF.
// A declared length below 4 fails with ErrMalformed, one above the limit
// with ErrFrameTooLarge (both as *FrameError); the stream is then unusable.
func (r *Reader[T]) Next() (typ T, body []byte, err error) {
	r.raw = nil
	r.Release()
	hdr, err := r.br.Peek(HeaderLen)
	if err != nil {
		if errors.Is(err, io.EOF) && len(hdr) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	typ = T(hdr[0])
	n := int64(binary.BigEndian.Uint32(hdr[1:5]))
	if n < 4 || n > 0x7fffffff {
		return typ, nil, &FrameError{Type: hdr[0], typed: true, Length: n, Max: r.max, Reason: "invalid length", Err: ErrMalformed}
	}
	if n-4 > int64(r.max) {
		return typ, nil, &FrameError{Type: hdr[0], typed: true, Length: n, Max: r.max, Err: ErrFrameTooLarge}
	}
	total := int(n) + 1
	if total <= r.br.Size() {
		p, err := r.br.Peek(total)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return typ, nil, err
		}
		// Discard only advances the read index: p stays valid until the
		// next read fills the buffer.
		_, _ = r.br.Discard(total)
		r.raw = p
		return typ, p[HeaderLen:], nil
	}
	if r.budget != nil {
		r.held = r.budget.acquire(int64(total))
	}
	if cap(r.spare) < total {
		r.spare = make([]byte, total)
	}
	buf := r.spare[:total]
	if _, err := io.ReadFull(r.br, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return typ, nil, err
	}
	if cap(r.spare) > spareLimit {
		r.spare = nil // do not pin a huge buffer; buf stays valid for the caller
	}
	r.raw = buf
	return typ, buf[HeaderLen:], nil
}

// Raw returns the whole last frame (type, length and body) as read, or nil
// after an error. Valid until the next call to Next.
func (r *Reader[T]) Raw() []byte { return r.raw }

// Buffered reports how many bytes are buffered and readable without a
// system call.
func (r *Reader[T]) Buffered() int { return r.br.Buffered() }

// FrameBuffered reports whether a complete frame is already buffered, so
// Next will not block. A relay flushes its output when it is false.
func (r *Reader[T]) FrameBuffered() bool {
	b := r.br.Buffered()
	if b < HeaderLen {
		return false
	}
	hdr, _ := r.br.Peek(HeaderLen)
	n := int64(binary.BigEndian.Uint32(hdr[1:5]))
	return n+1 <= int64(b)
}
