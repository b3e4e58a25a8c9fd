package config

import (
	"fmt"
	"net"
	"os"
	"strings"

	agentconfig "github.com/tollgate-db/tollgate/agent/config"
)

// validateTLS checks the client TLS files of an external NATS: only with
// nats.url (the embedded server and its listener use control's PKI), a
// client cert and its key together, and every file named readable.
func (n NATS) validateTLS() error {
	files := []struct{ key, path string }{
		{"nats.ca_file", n.CAFile}, {"nats.cert_file", n.CertFile}, {"nats.key_file", n.KeyFile},
	}
	for _, f := range files {
		if f.path != "" && n.URL == "" {
			return fmt.Errorf("%w: %s is for an external NATS: set nats.url too, or remove it (the embedded server uses control's certs)",
				ErrInvalid, f.key)
		}
	}
	if (n.CertFile == "") != (n.KeyFile == "") {
		return fmt.Errorf("%w: nats.cert_file and nats.key_file go together (a client cert for mTLS): set both or neither", ErrInvalid)
	}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("%w: %s %q: %w", ErrInvalid, f.key, f.path, err)
		}
	}
	return nil
}

// validateLeaf checks the leaf-node settings: control's leaf listener is
// the embedded server's (not with nats.url, not without control), and a
// leaf agent's (db_service.audit_leaf) joins a control in another process.
func (c *Config) validateLeaf() error {
	if l := c.NATS.LeafListenAddr; l != "" {
		if _, _, err := net.SplitHostPort(l); err != nil {
			return fmt.Errorf("%w: nats.leaf_listen_addr %q: use HOST:PORT, e.g. \"0.0.0.0:7423\"", ErrInvalid, l)
		}
		if c.NATSListen() == "" && c.NATS.URL == "" && c.ControlEnabled() {
			return fmt.Errorf("%w: nats.leaf_listen_addr needs the NATS listener for agents (nats.listen_addr is none)", ErrInvalid)
		}
		if c.NATS.URL != "" || !c.ControlEnabled() {
			return fmt.Errorf("%w: nats.leaf_listen_addr is for control's embedded NATS: remove it, or nats.url "+
				"(leaf agents on an external NATS are not supported yet)", ErrInvalid)
		}
	}
	if d := c.NATS.Domain; d != "" && strings.Trim(d, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_") != "" {
		return fmt.Errorf("%w: nats.domain %q: use letters, digits, '-' and '_'", ErrInvalid, d)
	}
	if t := c.Agent.DBService.Tunnel; c.AgentEnabled && t != nil && *t && c.ControlEnabled() {
		return fmt.Errorf("%w: db_service.tunnel is for an agent on another host than control (tollgate.proxy_server): "+
			"remove it (an agent in control's process needs no tunnel)", ErrInvalid)
	}
	if c.AgentEnabled && agentconfig.Off(c.Agent.DBService.ListenAddr) && c.ControlEnabled() {
		return fmt.Errorf("%w: db_service.listen_addr: none is for an agent on another host than control, reached through its tunnel: "+
			"give it a HOST:PORT", ErrInvalid)
	}
	if c.AgentEnabled && c.Agent.DBService.AuditLeaf.Enabled() && c.ControlEnabled() {
		return fmt.Errorf("%w: db_service.audit_leaf is for an agent on another host than control: "+
			"remove it (an agent in control's process writes to control's JetStream directly)", ErrInvalid)
	}
	return nil
}
