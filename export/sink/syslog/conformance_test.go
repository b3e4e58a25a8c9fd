package syslog

import (
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sinktest"
)

var idParam = regexp.MustCompile(`\[tollgate@32473 id="([^"]+)"`)

func TestConformance(t *testing.T) {
	t.Parallel()
	addr, out, _ := startRsyslog(t, false)
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) export.Sink {
			s, err := New(Config{Addr: addr})
			require.NoError(t, err)
			return s
		},
		Received: func(t *testing.T) []string {
			var ids []string
			for _, l := range readLines(t, out) {
				if m := idParam.FindStringSubmatch(l); m != nil {
					ids = append(ids, m[1])
				}
			}
			return ids
		},
	})
}
