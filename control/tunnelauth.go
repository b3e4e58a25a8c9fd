package control

import (
	"crypto/x509"
	"slices"

	"github.com/tollgate-db/tollgate/projections"
)

// VerifyUserCert checks that cert is a user cert of this cluster (the
// reverse tunnels' client connections, control/tunnel).
func (s *Service) VerifyUserCert(cert *x509.Certificate) error {
	c, err := s.Identify(cert)
	if err != nil {
		return err
	}
	if c.Kind != CallerUser {
		return unauthorizedf("a user certificate is required")
	}
	return nil
}

// AgentsServing are the agents that serve database: the agent whose
// config declares it, or, for a database registered dynamically, the
// agents whose resource selectors (as recorded at their join) match its
// labels, in id order.
func (s *Service) AgentsServing(database string) []string {
	var out []string
	s.View(func(st *projections.State) {
		d, ok := st.Databases[database]
		if !ok {
			return
		}
		if d.AgentID != "" {
			out = []string{d.AgentID}
			return
		}
		for id, a := range st.Agents {
			for _, sel := range a.Resources {
				if projections.Selector(sel).Matches(d.Labels) {
					out = append(out, id)
					break
				}
			}
		}
	})
	slices.Sort(out)
	return out
}
