package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"net/url"
	"sync/atomic"

	"github.com/tollgate-db/tollgate/agent/frontdoor"
	"github.com/tollgate-db/tollgate/schemas"
)

// routeScheme is the URI SAN scheme carrying a user cert's database route
// (as control issues it).
const routeScheme = "tollgate-route"

// identify reads user and route from a verified user cert: CN is the user,
// the tollgate-route URI SAN the database. (Stand-in for
// control/pki.ParseIdentity until that package lands.)
func identify(cert *x509.Certificate) (frontdoor.Identity, error) {
	id := frontdoor.Identity{User: cert.Subject.CommonName}
	for _, u := range cert.URIs {
		if u.Scheme == routeScheme {
			db, err := url.PathUnescape(u.Host)
			if err != nil {
				return frontdoor.Identity{}, err
			}
			id.Database = db
		}
	}
	if id.User == "" {
		return frontdoor.Identity{}, errors.New("certificate has no common name")
	}
	return id, nil
}

// credentials give the front door the user CA pool from the projection and
// the agent's host cert (replaced on Reload).
type credentials struct {
	state *stateFollower
	cert  atomic.Pointer[tls.Certificate]
}

func (c *credentials) ClientCAs() (*x509.CertPool, error) {
	p := c.state.pool(schemas.CAUser)
	if p == nil {
		return nil, errors.New("no user CA in the control state yet")
	}
	return p, nil
}

func (c *credentials) ServerCertificate() (*tls.Certificate, error) {
	cert := c.cert.Load()
	if cert == nil {
		return nil, errors.New("agent has no host certificate")
	}
	return cert, nil
}

var _ frontdoor.Credentials = (*credentials)(nil)
