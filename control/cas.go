package control

import (
	"strings"

	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// CAs are the four certificate authorities: what each trusts (public,
// or exported with the read right) and their rotation (rotation.go).
type CAs struct{ s *Service }

// CAs returns the service's CAs.
func (s *Service) CAs() CAs { return CAs{s} }

// normalizeCAType accepts the CLI spellings (db-client) of CA types.
func normalizeCAType(t string) (string, error) {
	t = strings.ReplaceAll(strings.ToLower(t), "-", "_")
	for _, k := range CATypes {
		if k == t {
			return t, nil
		}
	}
	return "", invalidf("CA type %q: use user, host, db or db-client", t)
}

// Export returns the PEM of every cert the CA trusts now.
func (cas CAs) Export(c Caller, caType string) ([]string, error) {
	s := cas.s
	t, err := normalizeCAType(caType)
	if err != nil {
		return nil, err
	}
	var out []string
	s.View(func(st *projections.State) {
		if err = authorizeIn(st, c, schemas.ResourceCA, schemas.VerbRead); err != nil {
			return
		}
		ca, ok := st.CAs[t]
		if !ok {
			err = notFoundf("CA %s does not exist yet", t)
			return
		}
		out = append(out, ca.Trusted...)
	})
	return out, err
}

func (s *Service) trusted(caType string) []string {
	var out []string
	s.View(func(st *projections.State) {
		if ca, ok := st.CAs[caType]; ok {
			out = append(out, ca.Trusted...)
		}
	})
	return out
}

// Trusted returns the public certs a CA trusts now; no authentication is
// needed (CA certs are public), so agents and new clients can fetch them.
func (cas CAs) Trusted(caType string) ([]string, error) {
	s := cas.s
	t, err := normalizeCAType(caType)
	if err != nil {
		return nil, err
	}
	out := s.trusted(t)
	if len(out) == 0 {
		return nil, notFoundf("CA %s does not exist yet", t)
	}
	return out, nil
}
