package relay

import (
	"testing"
	"time"

	"github.com/jackc/pgproto3/v2"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// slowResults takes result events slowly, as a publisher writing to disk
// under load would.
type slowResults struct{ memPub }

func (p *slowResults) TryPublishAsync(evs []eventlog.Event) error {
	time.Sleep(20 * time.Millisecond)
	return p.memPub.TryPublishAsync(evs)
}

// Results are published after the reply is written to the client; a query
// the client sends after reading that reply is still recorded after them.
func TestResultRecordedBeforeNextQuery(t *testing.T) {
	for _, mode := range []Mode{Strict, Async} {
		pub := &slowResults{}
		clientSide, agentClient := tcpPair(t)
		agentServer, serverSide := tcpPair(t)
		go fakeServer(t, serverSide)
		s := mustNew(Config{SessionID: "s1", Database: "db", User: "alice", Mode: mode,
			Builder: eventlog.NewBuilder("agent-1"), Publisher: pub}, agentClient, nil, agentServer)
		done := make(chan Stats, 1)
		go func() { done <- s.Run(t.Context()) }()
		fe := pgproto3.NewFrontend(pgproto3.NewChunkReader(clientSide), clientSide)
		recvUntilReady(t, fe)
		for range 3 {
			require.NoError(t, fe.Send(&pgproto3.Query{String: "select 1"}))
			recvUntilReady(t, fe)
		}
		require.NoError(t, fe.Send(&pgproto3.Terminate{}))
		<-done
		pub.mu.Lock()
		var types []string
		for _, ev := range pub.evs {
			if ev.Type == schemas.TypeQuery || ev.Type == schemas.TypeQueryResult {
				types = append(types, ev.Type)
			}
		}
		pub.mu.Unlock()
		q, r := schemas.TypeQuery, schemas.TypeQueryResult
		require.Equal(t, []string{q, r, q, r, q, r}, types, "mode %v", mode)
	}
}
