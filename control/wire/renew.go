package wire

import "time"

// AgentRenew is POST /v1/agents/renew: an agent, authenticated by its
// current host cert, asks for a new host cert for PublicKeyPEM (PKIX).
type AgentRenew struct {
	PublicKeyPEM string `json:"public_key_pem"`
	// Version is the agent's Tollgate version (recorded in agent.updated).
	Version string `json:"version,omitempty"`
}

// Agent is GET /v1/agents: one joined agent as control's projection has
// it. LastSeen is the time of the latest control event the agent caused
// (LastEvent: agent.joined, agent.updated at a host cert renewal,
// database.registered/updated for a database of its config); it is not a
// heartbeat. HostCertNotAfter is when its latest recorded host cert
// expires (zero when none is recorded); OldHostKey is set while a host CA
// rotation waits for it to renew from the new key.
type Agent struct {
	ID               string    `json:"id"`
	Hostname         string    `json:"hostname"`
	PublicAddr       string    `json:"public_addr,omitempty"`
	Version          string    `json:"version,omitempty"`
	JoinedAt         time.Time `json:"joined_at"`
	LastSeen         time.Time `json:"last_seen"`
	LastEvent        string    `json:"last_event,omitempty"`
	HostCertNotAfter time.Time `json:"host_cert_not_after,omitzero"`
	OldHostKey       bool      `json:"old_host_key,omitempty"`
	Databases        []string  `json:"databases,omitempty"`
	// Tunnel: the agent has its reverse tunnel up to the control that
	// answered (db_service.tunnel; an agent keeps one to each control).
	Tunnel bool `json:"tunnel,omitempty"`
}
