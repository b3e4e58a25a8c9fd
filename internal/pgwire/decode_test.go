package pgwire

import (
	"errors"
	"testing"

	"github.com/jackc/pgproto3/v2"
	"github.com/stretchr/testify/require"
)

func TestDecodeNeverPanics(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		m    Decoder
		body []byte
		ok   bool
	}{
		{"empty Query body (pgproto3 indexes [:-1])", &pgproto3.Query{}, nil, false},
		{"empty CommandComplete body", &pgproto3.CommandComplete{}, []byte{}, false},
		{"valid Query", &pgproto3.Query{}, []byte("select 1\x00"), true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := Decode(tc.m, tc.body)
			if tc.ok {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			require.True(t, errors.Is(err, ErrMalformed), "%v", err)
		})
	}
}
