package control

import (
	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// Cluster describes the cluster and the caller: the status of its CAs,
// the unauthenticated description a new client pins, whoami.
type Cluster struct{ s *Service }

// Cluster returns the service's cluster.
func (s *Service) Cluster() Cluster { return Cluster{s} }

// Status describes the cluster and its CAs.
func (cl Cluster) Status(c Caller) (wire.Status, error) {
	s := cl.s
	var (
		out wire.Status
		err error
	)
	s.View(func(st *projections.State) {
		if err = authorizeIn(st, c, schemas.ResourceCluster, schemas.VerbRead); err != nil {
			return
		}
		out = wire.Status{Cluster: st.Cluster.Name, Version: st.Cluster.Version, Users: len(st.Users), Roles: len(st.Roles),
			Agents: len(st.Agents), DBs: len(st.Databases), LastSeq: st.LastSeq}
		for _, t := range CATypes {
			ca, ok := st.CAs[t]
			if !ok {
				continue
			}
			pin, perr := pki.Pin([]byte(ca.Active.CertPEM))
			if perr != nil {
				err = perr
				return
			}
			out.CAs = append(out.CAs, wire.CAInfo{Type: t, KeyAlg: ca.Active.KeyAlg, Pin: pin, Phase: ca.Phase})
			if t == schemas.CAHost {
				out.CAPin = pin
			}
		}
	})
	return out, err
}

// Ping is the unauthenticated cluster description a new client pins.
func (cl Cluster) Ping() wire.Ping {
	s := cl.s
	var out wire.Ping
	s.View(func(st *projections.State) {
		out = wire.Ping{Cluster: st.Cluster.Name, Version: st.Cluster.Version}
		if ca, ok := st.CAs[schemas.CAHost]; ok {
			out.HostCAPEM = append(out.HostCAPEM, ca.Trusted...)
		}
	})
	return out
}

// Whoami describes the caller.
func (cl Cluster) Whoami(c Caller) (wire.Whoami, error) {
	s := cl.s
	out := wire.Whoami{Kind: c.Kind, Name: c.Name, NotAfter: c.NotAfter}
	var err error
	s.View(func(st *projections.State) {
		out.Cluster = st.Cluster.Name
		if c.Kind != CallerUser {
			return
		}
		u, ok := st.Users[c.Name]
		if !ok {
			err = unauthorizedf("user %s no longer exists; log in again", c.Name)
			return
		}
		out.Roles, out.Traits, out.MFA = u.Roles, u.Traits, u.MFA
	})
	return out, err
}
