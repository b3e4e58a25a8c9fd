package relay

import (
	"bufio"
	"context"
	"io"
	"net"
	"testing"

	"github.com/jackc/pgproto3/v2"

	"github.com/tollgate-db/tollgate/agent/auditpub"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
)

// benchRoundTrips runs b.N simple-query round trips through the middle
// started by mid (which connects the two TCP pairs).
func benchRoundTrips(b *testing.B, mid func(client, server net.Conn)) {
	clientSide, agentClient := tcpPair(b)
	agentServer, serverSide := tcpPair(b)
	go fakeServer(b, serverSide)
	go mid(agentClient, agentServer)
	fe := pgproto3.NewFrontend(pgproto3.NewChunkReader(bufio.NewReader(clientSide)), clientSide)
	drain := func() {
		for {
			m, err := fe.Receive()
			if err != nil {
				b.Fatal(err)
			}
			if _, ok := m.(*pgproto3.ReadyForQuery); ok {
				return
			}
		}
	}
	drain()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := fe.Send(&pgproto3.Query{String: "select abalance from pgbench_accounts where aid = 42"}); err != nil {
			b.Fatal(err)
		}
		drain()
	}
	b.StopTimer()
	_ = fe.Send(&pgproto3.Terminate{})
}

func BenchmarkPlainCopy(b *testing.B) {
	benchRoundTrips(b, func(c, s net.Conn) {
		go func() { _, _ = io.Copy(s, c); s.Close() }()
		_, _ = io.Copy(c, s)
		c.Close()
	})
}

func benchRelay(b *testing.B, mode Mode) {
	pub := auditpub.New(memlog.New(eventlog.AuditStream), nil, auditpub.Options{})
	defer func() { _ = pub.Close(context.Background()) }()
	benchRoundTrips(b, func(c, s net.Conn) {
		mustNew(Config{SessionID: "s", Database: "d", User: "u", Mode: mode,
			Builder: eventlog.NewBuilder("agent"), Publisher: pub}, c, nil, s).Run(context.Background())
	})
}

func BenchmarkRelayStrict(b *testing.B) { benchRelay(b, Strict) }
func BenchmarkRelayAsync(b *testing.B)  { benchRelay(b, Async) }
