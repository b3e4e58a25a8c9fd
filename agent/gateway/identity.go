package gateway

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"sync/atomic"

	"github.com/tollgate-db/tollgate/agent/frontdoor"
	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/schemas"
)

// identify reads user and route from a verified user cert
// (control/pki.ParseIdentity).
func identify(cert *x509.Certificate) (frontdoor.Identity, error) {
	id, err := pki.ParseIdentity(cert)
	if err != nil {
		return frontdoor.Identity{}, err
	}
	return frontdoor.Identity{User: id.User, Database: id.Database, MFASessionUntil: id.MFASessionUntil}, nil
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
