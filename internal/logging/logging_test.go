package logging

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		opts    Options
		wantErr bool
		json    bool
		debug   bool
	}{
		{name: "default is json on a non-terminal at info", opts: Options{}, json: true},
		{name: "debug level", opts: Options{Level: "debug", Format: FormatJSON}, json: true, debug: true},
		{name: "text", opts: Options{Level: "info", Format: FormatText}},
		{name: "bad level", opts: Options{Level: "loud"}, wantErr: true},
		{name: "bad format", opts: Options{Level: "info", Format: "xml"}, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if tc.opts.Level == "" {
				t.Setenv(EnvLevel, "")
			}
			var buf bytes.Buffer
			log, err := New(&buf, tc.opts)
			if tc.wantErr {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			log.Debug().Msg("dbg")
			log.Info().Str("k", "v").Msg("hello")
			out := buf.String()
			require.Contains(t, out, "hello")
			require.Equal(t, tc.debug, bytes.Contains(buf.Bytes(), []byte("dbg")))
			if tc.json {
				var m map[string]any
				line := bytes.Split(bytes.TrimSpace(buf.Bytes()), []byte("\n"))
				require.NoError(t, json.Unmarshal(line[len(line)-1], &m))
				require.Equal(t, "v", m["k"])
			} else {
				require.Contains(t, out, "k=v")
			}
		})
	}
}
