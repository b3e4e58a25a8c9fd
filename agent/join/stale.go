package join

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/tollgate-db/tollgate/control/pki"
)

// Mismatch says how a separate agent's config (proxy, the normalized
// tollgate.proxy_server, and pin, tollgate.ca_pin) names another control
// than the one id joined, or "" when it does not: the proxy differs from
// the one recorded at the join, or the pin is neither the one it joined
// with nor that of any host CA it trusts now (it follows rotations). Such
// an identity may be of another cluster; the caller asks control (IssuedBy).
func (id *Identity) Mismatch(proxy, pin string) string {
	var why []string
	if id.Proxy != "" && proxy != "" && id.Proxy != proxy {
		why = append(why, fmt.Sprintf("tollgate.proxy_server is %s, but it joined through %s", proxy, id.Proxy))
	}
	pin = strings.ToLower(strings.TrimSpace(pin))
	if pin != "" && pin != id.CAPin && !containsPin(id.HostCAPEM, pin) {
		was := id.CAPin
		if was == "" {
			was = strings.Join(pins(id.HostCAPEM), ", ")
		}
		why = append(why, fmt.Sprintf("tollgate.ca_pin is %s, but it joined a cluster whose host CA pin is %s", pin, was))
	}
	return strings.Join(why, "; ")
}

func pins(pems []string) []string {
	var out []string
	for _, p := range pems {
		if pp, err := pki.Pin([]byte(p)); err == nil {
			out = append(out, pp)
		}
	}
	return out
}

func containsPin(pems []string, pin string) bool {
	for _, p := range pins(pems) {
		if p == pin {
			return true
		}
	}
	return false
}

// IssuedBy reports whether id's host cert is signed by one of the CA certs
// (PEM): whether a control trusting them knows this agent. Expiry is not
// considered.
func (id *Identity) IssuedBy(caPEMs []string) bool {
	block, _ := pem.Decode([]byte(id.CertPEM))
	if block == nil {
		return false
	}
	leaf, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return false
	}
	for _, p := range caPEMs {
		rest := []byte(p)
		for {
			var b *pem.Block
			if b, rest = pem.Decode(rest); b == nil {
				break
			}
			if ca, err := x509.ParseCertificate(b.Bytes); err == nil && leaf.CheckSignatureFrom(ca) == nil {
				return true
			}
		}
	}
	return false
}

// StaleIdentityError means the data dir holds an agent identity the
// control this process uses does not know: from another cluster (or from
// before a host CA rotation completed without this agent). It says what
// to do; nothing was changed, no token was used.
type StaleIdentityError struct {
	DataDir string
	ID      *Identity
	// Why is Mismatch's answer ("" in process).
	Why string
	// Control names the control asked, e.g. "control at ctl:7080".
	Control string
	// InProcess: control runs in this process (a single node).
	InProcess bool
}

func (e *StaleIdentityError) Error() string {
	joined := ""
	if e.ID.Proxy != "" {
		joined = " through " + e.ID.Proxy
	}
	var b strings.Builder
	fmt.Fprintf(&b, "the data dir %s holds the identity of agent %s of cluster %q (joined%s)", e.DataDir, e.ID.AgentID, e.ID.Cluster, joined)
	if e.Why != "" {
		fmt.Fprintf(&b, "; %s", e.Why)
	}
	fmt.Fprintf(&b, "; %s does not know it: its host CA did not issue this agent's certificate "+
		"(another cluster, or a host CA rotation completed while this agent was away). ", e.Control)
	aside := fmt.Sprintf("move %s and %s aside (the spool holds audit events of the old cluster)",
		Dir(e.DataDir), filepath.Join(e.DataDir, "spool"))
	if e.InProcess {
		fmt.Fprintf(&b, "Stop tollgate, %s and start again: the node joins its own agent anew.", aside)
		return b.String()
	}
	fmt.Fprintf(&b, "To join the cluster the config names: stop this agent, %s, set tollgate.auth_token to a new join token "+
		"from that cluster (tollctl tokens add --type=db) and start again. "+
		"To go on serving the cluster it joined, set tollgate.proxy_server and tollgate.ca_pin back.", aside)
	return b.String()
}
