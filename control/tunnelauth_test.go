package control

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestAgentsServing: a static database is its agent's; a dynamic one is
// served by the agents whose recorded selectors match its labels, and by
// no other (a tunneled client must not be sent to an agent that refuses
// it).
func TestAgentsServing(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	join := func(host string, resources []map[string][]string) string {
		tok, err := f.svc.Tokens().Add(ctx, f.admin, wire.TokenAdd{Type: "db"})
		require.NoError(t, err)
		j, err := f.svc.Agents().Join(ctx, wire.Join{Token: tok.Value, Hostname: host, PublicKeyPEM: pubKey(t), Resources: resources}, "test")
		require.NoError(t, err)
		return j.AgentID
	}
	dev := join("dev1", []map[string][]string{{"env": {"dev"}}})
	anyEnv := join("any1", []map[string][]string{{"env": {"*"}}})
	prod := join("prod1", []map[string][]string{{"env": {"prod"}}})
	static := join("static1", nil)
	_, err := f.svc.Databases().Create(ctx, f.admin, schemas.Database{Name: "shared", Protocol: "postgres", URI: "db:5432",
		Labels: map[string]string{"env": "dev"}})
	require.NoError(t, err)
	_, err = f.svc.Databases().Register(ctx, Caller{Kind: CallerHost, Name: static}, schemas.Database{Name: "own", Protocol: "postgres", URI: "db:5432"})
	require.NoError(t, err)

	want := []string{dev, anyEnv}
	if anyEnv < dev {
		want = []string{anyEnv, dev}
	}
	require.Equal(t, want, f.svc.AgentsServing("shared"))
	require.NotContains(t, f.svc.AgentsServing("shared"), prod)
	require.Equal(t, []string{static}, f.svc.AgentsServing("own"))
	require.Empty(t, f.svc.AgentsServing("nope"))
}
