package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestFrameRoundTripAndBounds(t *testing.T) {
	t.Parallel()
	var b bytes.Buffer
	require.NoError(t, WriteFrame(&b, TunnelStream{ClientAddr: "192.0.2.1:5000", Database: "pg"}))
	var got TunnelStream
	require.NoError(t, ReadFrame(&b, &got))
	require.Equal(t, TunnelStream{ClientAddr: "192.0.2.1:5000", Database: "pg"}, got)

	require.ErrorIs(t, WriteFrame(&b, DatabaseDial{Database: string(make([]byte, MaxFrame))}), ErrFrame)
	over := make([]byte, 2)
	binary.BigEndian.PutUint16(over, MaxFrame+1)
	require.ErrorIs(t, ReadFrame(bytes.NewReader(over), &got), ErrFrame, "refused before it is read")
	require.ErrorIs(t, ReadFrame(bytes.NewReader([]byte{0, 2, '{', 'x'}), &got), ErrFrame)
}

// FuzzReadFrame: any bytes give a frame or an error, never a panic, and
// a frame read back writes the same JSON.
func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 17, '{', '"', 'd', 'a', 't', 'a', 'b', 'a', 's', 'e', '"', ':', '"', 'p', 'g', '"', '}'})
	f.Add([]byte{0xff, 0xff})
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		var d DatabaseDial
		err := ReadFrame(bytes.NewReader(in), &d)
		if err != nil {
			return
		}
		var b bytes.Buffer
		if err := WriteFrame(&b, d); err != nil && !errors.Is(err, ErrFrame) {
			t.Fatal(err)
		}
	})
}
