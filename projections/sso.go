package projections

import (
	"time"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/schemas"
)

// SSOConnector is a single sign-on connector as stored (its client
// secret is in control's keystore, never here).
type SSOConnector struct {
	schemas.SSOConnectorSaved
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// ssoConnectorSaved creates a connector or replaces one of that name.
func (s *State) ssoConnectorSaved(ev eventlog.Event, d *schemas.SSOConnectorSaved) string {
	if d.Kind != schemas.ConnectorOIDC {
		return "unknown connector kind " + d.Kind
	}
	c := &SSOConnector{SSOConnectorSaved: *d, CreatedAt: ev.Time, UpdatedAt: ev.Time}
	if old, ok := s.SSOConnectors[d.OIDC.Name]; ok {
		c.CreatedAt = old.CreatedAt
	}
	s.SSOConnectors[d.OIDC.Name] = c
	return ""
}

func (s *State) ssoConnectorDeleted(_ eventlog.Event, d *schemas.SSOConnectorDeleted) string {
	if _, ok := s.SSOConnectors[d.Name]; !ok {
		return "sso connector " + d.Name + " does not exist"
	}
	delete(s.SSOConnectors, d.Name)
	return ""
}
