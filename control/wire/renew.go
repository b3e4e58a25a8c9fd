package wire

// AgentRenew is POST /v1/agents/renew: an agent, authenticated by its
// current host cert, asks for a new host cert for PublicKeyPEM (PKIX).
type AgentRenew struct {
	PublicKeyPEM string `json:"public_key_pem"`
}
