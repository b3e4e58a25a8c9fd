package memlog_test

import (
	"testing"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/logtest"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	logtest.Run(t, func(t *testing.T, name string) eventlog.Stream {
		return memlog.New(name)
	})
}
