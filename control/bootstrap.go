package control

import (
	"context"
	"fmt"
	"os"

	"github.com/tollgate-db/tollgate/control/bootstrap"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// AdminUser is the local admin identity's user name; it holds the editor
// and auditor roles.
const AdminUser = "admin"

// AdminRoles are the roles of the local admin user.
var AdminRoles = []string{"editor", "auditor"}

// CATypes are the four CAs, in bootstrap order.
var CATypes = []string{schemas.CAUser, schemas.CAHost, schemas.CADB, schemas.CADBClient}

// Bootstrap makes a new cluster's first events: cluster name, the four
// CAs, the built-in roles and the admin user. It checks the projection
// first, so a second start appends nothing. Then it makes sure the local
// admin identity in the data dir is present and fresh.
func (s *Service) Bootstrap(ctx context.Context) error {
	if err := s.Sync(ctx); err != nil {
		return err
	}
	var (
		cluster   string
		haveCA    = map[string]bool{}
		haveRole  = map[string]bool{}
		haveAdmin bool
	)
	s.View(func(st *projections.State) {
		cluster = st.Cluster.Name
		for t := range st.CAs {
			haveCA[t] = true
		}
		for r := range st.Roles {
			haveRole[r] = true
		}
		_, haveAdmin = st.Users[AdminUser]
	})
	if cluster == "" {
		name := s.cfg.ClusterName
		if name == "" {
			name, _ = os.Hostname()
		}
		if name == "" {
			name = "tollgate"
		}
		if err := s.bootEvent(ctx, eventlog.KindCluster, name, schemas.TypeClusterCreated,
			schemas.ClusterCreated{Name: name, Version: Version}); err != nil {
			return err
		}
		s.log.Info().Str("cluster", name).Msg("created cluster")
		// Another control may have created it first: the log's name wins.
		s.View(func(st *projections.State) { cluster = st.Cluster.Name })
	}
	for _, t := range CATypes {
		if haveCA[t] {
			continue
		}
		alg := schemas.KeyAlgECDSAP256
		if s.cfg.KeyAlg != nil {
			alg = s.cfg.KeyAlg(t)
		}
		created, err := s.pki.createCA(ctx, t, alg, cluster)
		if err != nil {
			return fmt.Errorf("create %s CA: %w", t, err)
		}
		if err := s.bootEvent(ctx, eventlog.KindCA, t, schemas.TypeCACreated, created); err != nil {
			return err
		}
		s.log.Info().Str("ca", t).Str("alg", alg).Msg("created certificate authority")
	}
	for _, r := range bootstrap.BuiltinRoles() {
		if haveRole[r.Name] {
			continue
		}
		if err := s.bootEvent(ctx, eventlog.KindRole, r.Name, schemas.TypeRoleCreated, r); err != nil {
			return err
		}
	}
	if !haveAdmin {
		u := schemas.UserCreated{User: schemas.User{Name: AdminUser, Roles: AdminRoles}}
		if err := s.bootEvent(ctx, eventlog.KindUser, AdminUser, schemas.TypeUserCreated, u); err != nil {
			return err
		}
	}
	return nil
}

// bootEvent appends a creation event expecting the subject to be empty; a
// conflict means another control created it first, which is fine.
func (s *Service) bootEvent(ctx context.Context, kind, name, typ string, data any) error {
	ev, err := s.builder.Build(typ, 1, Source, eventlog.ControlSubject(kind, name), data)
	if err != nil {
		return err
	}
	_, err = s.appendControl(ctx, ev, kind, name, eventlog.ExpectLastSubjectSeq(0))
	if isCode(err, CodeConflict) {
		return s.Sync(ctx)
	}
	return err
}
