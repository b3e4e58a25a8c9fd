package control

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestAuditRequiresAuditRules: the audit questions need the audit rules
// (auditor role); an access-only user and a host are refused.
func TestAuditRequiresAuditRules(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.UsersAdd(ctx, f.admin, schemas.User{Name: "bob", Roles: []string{"access"}})
	require.NoError(t, err)
	for _, c := range []Caller{{Kind: CallerUser, Name: "bob"}, {Kind: CallerHost, Name: "agent-1"}} {
		_, err = f.svc.AuditSearch(ctx, c, wire.AuditSearch{})
		require.Equal(t, CodeForbidden, apiCode(t, err))
		_, err = f.svc.AuditSession(ctx, c, "s1")
		require.Equal(t, CodeForbidden, apiCode(t, err))
		_, err = f.svc.AccessAt(ctx, c, wire.AccessAt{At: time.Now(), User: "bob"})
		require.Equal(t, CodeForbidden, apiCode(t, err))
		_, err = f.svc.AuditVerify(ctx, c, wire.AuditVerify{})
		require.Equal(t, CodeForbidden, apiCode(t, err))
	}
	_, err = f.svc.AuditSearch(ctx, f.admin, wire.AuditSearch{User: "bob"})
	require.NoError(t, err)
}
