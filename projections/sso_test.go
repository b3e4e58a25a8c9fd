package projections_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestSSOConnectorsAndTheirUsers: a connector saved twice is replaced
// (its creation time kept), a deletion of a missing one and an unknown
// kind are refused, and a user created by a connector keeps that
// connector across updates.
func TestSSOConnectorsAndTheirUsers(t *testing.T) {
	t.Parallel()
	conn := schemas.OIDCConnector{Name: "corp", IssuerURL: "https://idp", ClientID: "tollgate", Scopes: []string{"openid"},
		ClaimsToRoles: []schemas.ClaimMapping{{Claim: "groups", Value: "dba", Roles: []string{"access"}}}}
	var l log
	l.add(t, schemas.TypeSSOConnectorSaved, eventlog.KindSSO, "corp", schemas.SSOConnectorSaved{Kind: schemas.ConnectorOIDC, OIDC: conn})
	conn.ClientID = "tollgate-2"
	l.add(t, schemas.TypeSSOConnectorSaved, eventlog.KindSSO, "corp", schemas.SSOConnectorSaved{Kind: schemas.ConnectorOIDC, OIDC: conn})
	l.add(t, schemas.TypeSSOConnectorSaved, eventlog.KindSSO, "x", schemas.SSOConnectorSaved{Kind: "saml", OIDC: schemas.OIDCConnector{Name: "x"}})
	l.add(t, schemas.TypeSSOConnectorDeleted, eventlog.KindSSO, "nope", schemas.SSOConnectorDeleted{Name: "nope"})
	l.add(t, schemas.TypeUserCreated, eventlog.KindUser, "alice@corp", schemas.UserCreated{
		User: schemas.User{Name: "alice@corp", Roles: []string{"access"}}, SSO: "corp"})
	l.add(t, schemas.TypeUserUpdated, eventlog.KindUser, "alice@corp", schemas.UserUpdated{Name: "alice@corp", Roles: []string{"access", "dba"}})
	s, errs := applyAll(t, l.recs)
	require.Len(t, errs, 2)
	for _, err := range errs {
		require.True(t, errors.Is(err, projections.ErrInvalidTransition), "%v", err)
	}
	require.Len(t, s.SSOConnectors, 1)
	c := s.SSOConnectors["corp"]
	require.Equal(t, "tollgate-2", c.OIDC.ClientID)
	require.Equal(t, l.recs[0].Event.Time, c.CreatedAt)
	require.Equal(t, l.recs[1].Event.Time, c.UpdatedAt)
	require.Equal(t, "corp", s.Users["alice@corp"].SSO)
	require.Equal(t, []string{"access", "dba"}, s.Users["alice@corp"].Roles)

	l.add(t, schemas.TypeSSOConnectorDeleted, eventlog.KindSSO, "corp", schemas.SSOConnectorDeleted{Name: "corp"})
	s, errs = applyAll(t, l.recs)
	require.Len(t, errs, 2)
	require.Empty(t, s.SSOConnectors)
	require.Contains(t, s.Users, "alice@corp")
}
