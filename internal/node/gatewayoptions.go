package node

import (
	"context"
	"crypto/x509"
	"fmt"
	"os"

	agentconfig "github.com/tollgate-db/tollgate/agent/config"
	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/agent/relay"
	"github.com/tollgate-db/tollgate/internal/config"
)

// The YAML is the composition root's: the gateway takes plain options,
// built here from the agent's sections (`tollgate:`, `db_service:`), as
// litestream's cmd builds its DBs from its Config.

// gatewayOptions are the gateway's options for the agent sections f, its
// identity and spool kept in dataDir. The ca_cert_files are read here.
func gatewayOptions(f agentconfig.File, dataDir string) (gateway.Options, error) {
	r, err := reloadable(f.DBService)
	if err != nil {
		return gateway.Options{}, err
	}
	s := f.DBService
	o := gateway.Options{
		DataDir: dataDir, JoinToken: joinToken(f.Tollgate),
		ListenAddr: metricsAddr(s.ListenAddr), MetricsAddr: metricsAddr(s.MetricsAddr), HandshakeTimeout: s.HandshakeTimeout, MaxConnections: s.MaxConnections,
		CheckpointInterval: s.CheckpointInterval, SpoolDir: s.SpoolDir, SpoolSyncEveryAppend: s.SpoolSync == agentconfig.SpoolSyncAlways,
		SpoolMaxBytes: int64(s.SpoolMaxBytes), Reloadable: r,
	}
	return o, nil
}

// metricsAddr is a listen_addr or metrics_addr as the gateway takes it:
// "none" and "-" are gateway.NoListener.
func metricsAddr(addr string) string {
	if agentconfig.Off(addr) {
		return gateway.NoListener
	}
	return addr
}

// joinToken reads tollgate.auth_token when the gateway asks (at its first
// start only): "" when there is none (join.Ensure then says how to get
// one), else agentconfig.Join.Token.
func joinToken(j agentconfig.Join) func() (string, error) {
	return func() (string, error) {
		if j.AuthToken == "" {
			return "", nil
		}
		return j.Token()
	}
}

// reloadable is what a reload of db_service replaces in the gateway.
func reloadable(s agentconfig.DBService) (gateway.Reloadable, error) {
	r := gateway.Reloadable{MaxMessageSize: int(s.MaxMessageSize), IdleTimeout: s.IdleTimeout, PublicAddr: s.PublicAddr}
	if s.AuditMode == agentconfig.AuditAsync {
		r.AuditMode = relay.Async
	}
	pools := map[string]*x509.CertPool{}
	for _, d := range s.Databases {
		gd := gateway.Database{Name: d.Name, Description: d.Description, Protocol: d.Protocol, URI: d.URI, Labels: d.Labels,
			TLSMode: d.TLS.Mode, ServerName: d.TLS.ServerName}
		if p := d.TLS.CACertFile; p != "" {
			if pools[p] == nil {
				pool, err := loadCAFile(d.Name, p)
				if err != nil {
					return gateway.Reloadable{}, err
				}
				pools[p] = pool
			}
			gd.Roots = pools[p]
		}
		r.Databases = append(r.Databases, gd)
	}
	for _, m := range s.Resources {
		sel := gateway.Selector{}
		for k, v := range m.Labels {
			sel[k] = []string(v)
		}
		r.Resources = append(r.Resources, sel)
	}
	return r, nil
}

// loadCAFile reads the ca_cert_file of database db.
func loadCAFile(db, path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("database %s: ca_cert_file: %w", db, err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("database %s: ca_cert_file %s holds no PEM certificate", db, path)
	}
	return pool, nil
}

// reloader gives the gateway, at each reload, the db_service section of
// the config file at path read anew (its ca_cert_files too); with no
// file, that of running, its ca_cert_files read again.
func reloader(path string, running agentconfig.File) func(context.Context) (gateway.Reloadable, error) {
	return func(context.Context) (gateway.Reloadable, error) {
		f := running
		if path != "" {
			c, err := config.Load(path)
			if err != nil {
				return gateway.Reloadable{}, err
			}
			f = c.Agent
		}
		return reloadable(f.DBService)
	}
}
