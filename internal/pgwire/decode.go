package pgwire

import (
	"fmt"
	"strings"
)

// Decoder is a pgproto3 message.
type Decoder interface {
	Decode(body []byte) error
}

// Decode decodes body into m and never panics: some pgproto3/v2 decoders
// index out of range on hostile input (an empty Query body, for one), and a
// client must not be able to bring the agent down with one frame. A panic
// becomes an ErrMalformed FrameError.
func Decode(m Decoder, body []byte) (err error) {
	defer func() {
		if r := recover(); r != nil {
			name := strings.TrimPrefix(fmt.Sprintf("%T", m), "*pgproto3.")
			err = &FrameError{Reason: name + ": the body cannot be decoded", Err: ErrMalformed}
		}
	}()
	return m.Decode(body)
}
