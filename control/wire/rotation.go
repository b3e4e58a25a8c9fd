package wire

// Rotation actions of RotateRequest.
const (
	RotateStart    = "start"
	RotateNext     = "next"
	RotateRollback = "rollback"
	RotateAuto     = "auto"
)

// RotateRequest is POST /v1/auth/rotate: one step of a CA rotation
// (standby → init → update_clients → update_servers → standby), or all of
// them (auto).
type RotateRequest struct {
	// Type is the CA: user, host, db or db_client (db-client).
	Type string `json:"type"`
	// Action is start (default), next, rollback or auto.
	Action string `json:"action,omitempty"`
	// KeyAlg is the new key's algorithm at start; empty keeps the current
	// one.
	KeyAlg string `json:"key_alg,omitempty"`
	// Force completes a host CA rotation even though some agents still
	// hold host certs from the old key (they must re-join); without it
	// next refuses and auto stops in update_servers.
	Force bool `json:"force,omitempty"`
}

// Rotation is the answer of a rotation step.
type Rotation struct {
	Type string `json:"type"`
	// Phases are the phases passed through, in order, ending in Phase.
	Phases []string `json:"phases"`
	// Phase is the CA's phase now.
	Phase string `json:"phase"`
	// ActivePin is the pin of the key that was active when the rotation
	// started (the new key's after completion); NextPin is the new key's
	// while rotating.
	ActivePin string `json:"active_pin"`
	NextPin   string `json:"next_pin,omitempty"`
	KeyAlg    string `json:"key_alg"`
	// Trusted is every cert of this CA that must be trusted now, PEM.
	Trusted []string `json:"trusted"`
	// Hint says what to do before the next step.
	Hint string `json:"hint"`
	// Waiting are the joined agents whose host cert is not from the new
	// key yet, sorted: completing a host CA rotation in update_servers
	// waits for them (empty for other CAs and phases).
	Waiting []string `json:"waiting,omitempty"`
}
