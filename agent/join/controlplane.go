package join

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// ControlPlane is what an agent asks of control.
type ControlPlane interface {
	// Join consumes a join token and returns the agent's host cert.
	Join(ctx context.Context, req wire.Join) (wire.Joined, error)
	// DBClientCert issues agentID a db_client cert (CN = req.DBUser,
	// NotAfter no later than req.NotAfter) for req.Database.
	DBClientCert(ctx context.Context, agentID string, req wire.DBClientCertRequest) (wire.Cert, error)
	// RegisterDatabase registers (or updates) a database of agentID's
	// static config.
	RegisterDatabase(ctx context.Context, agentID string, d schemas.Database) error
}

var _ ControlPlane = (*Remote)(nil)

// Remote is ControlPlane over control's HTTPS API at Proxy: HOST:PORT, or
// a comma-separated list of the cluster's controls that every call (join,
// renewal, certs) fails over between (client.Client). Before the join it
// speaks anonymously, trusting HostCAPEM (checked against the CA pin by
// client.FirstContact); after it, with the agent's host cert.
type Remote struct {
	Proxy     string
	HostCAPEM []byte
	// cli calls control with the agent's host cert; nil until joined
	// (SetIdentity, SetLive).
	cli *client.Client
}

var _ Renewer = (*Remote)(nil)

// NewRemote returns a Remote for control at proxy, trusting hostCAPEM.
func NewRemote(proxy string, hostCAPEM []byte) *Remote {
	return &Remote{Proxy: proxy, HostCAPEM: hostCAPEM}
}

// SetIdentity makes later calls authenticate with id's host cert.
func (r *Remote) SetIdentity(id *Identity) error {
	pool := x509.NewCertPool()
	for _, p := range id.HostCAPEM {
		pool.AppendCertsFromPEM([]byte(p))
	}
	cert, err := id.TLSCertificate()
	if err != nil {
		return err
	}
	r.cli = client.New(r.Proxy, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}})
	return nil
}

// SetLive makes later calls authenticate with l's current host cert and
// verify control against l's current host CA bundle, each of Proxy's
// addresses by its own host name.
func (r *Remote) SetLive(l *Live) {
	r.cli = client.NewFor(r.Proxy, l.ClientTLS)
}

// RenewHostCert calls the API with the host cert.
func (r *Remote) RenewHostCert(ctx context.Context, _ string, req wire.AgentRenew) (wire.Cert, error) {
	c, err := r.authed()
	if err != nil {
		return wire.Cert{}, err
	}
	return c.RenewAgentCert(ctx, req)
}

// CloseIdleConnections closes the kept-alive connections to control, so
// the next call handshakes with the current host cert.
func (r *Remote) CloseIdleConnections() {
	if r.cli != nil {
		r.cli.Close()
	}
}

// Join calls the API anonymously.
func (r *Remote) Join(ctx context.Context, req wire.Join) (wire.Joined, error) {
	c, err := client.Anonymous(r.Proxy, r.HostCAPEM)
	if err != nil {
		return wire.Joined{}, err
	}
	defer c.Close()
	return c.Join(ctx, req)
}

func (r *Remote) authed() (*client.Client, error) {
	if r.cli == nil {
		return nil, fmt.Errorf("join: agent has no identity yet")
	}
	return r.cli, nil
}

// DBClientCert calls the API with the host cert.
func (r *Remote) DBClientCert(ctx context.Context, _ string, req wire.DBClientCertRequest) (wire.Cert, error) {
	c, err := r.authed()
	if err != nil {
		return wire.Cert{}, err
	}
	return c.DBClientCert(ctx, req)
}

// RegisterDatabase calls the API with the host cert.
func (r *Remote) RegisterDatabase(ctx context.Context, _ string, d schemas.Database) error {
	c, err := r.authed()
	if err != nil {
		return err
	}
	_, err = c.DBRegister(ctx, d)
	return err
}
