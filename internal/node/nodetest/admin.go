package nodetest

import (
	"testing"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/internal/profile"
)

// Admin is a client of the node's API with its local admin identity,
// closed when the test ends.
func (n *Node) Admin(t testing.TB) *client.Client {
	t.Helper()
	p, err := profile.Load(control.AdminDir(n.DataDir))
	if err != nil {
		t.Fatalf("load the admin identity: %v", err)
	}
	c, err := client.FromProfile(p, "")
	if err != nil {
		t.Fatalf("admin client: %v", err)
	}
	t.Cleanup(c.Close)
	return c
}
