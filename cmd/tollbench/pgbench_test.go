package main

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestParsePgbench(t *testing.T) {
	t.Parallel()
	out := `pgbench (15.8 (Debian 15.8-0+deb12u1))
transaction type: <builtin: select only>
scaling factor: 10
query mode: simple
number of clients: 8
number of threads: 2
maximum number of tries: 1
duration: 2 s
number of transactions actually processed: 12760
number of failed transactions: 0 (0.000%)
latency average = 1.254 ms
initial connection time = 30.412 ms
tps = 6380.113 (without initial connection time)
`
	r, err := parsePgbench([]byte(out))
	require.NoError(t, err)
	require.Equal(t, int64(12760), r.txns)
	require.InDelta(t, 6380.113, r.tps, 1e-9)
	require.InDelta(t, 1.254, r.latAvg, 1e-9)

	r, err = parsePgbench([]byte("number of transactions actually processed: 100/100\ntps = 50.0 (without initial connection time)\n"))
	require.NoError(t, err)
	require.Equal(t, int64(100), r.txns)

	_, err = parsePgbench([]byte("pgbench: error: connection to server failed\n"))
	require.Error(t, err)
}
