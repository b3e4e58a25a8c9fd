package control

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/profile"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

// Rotate performs one step of a CA rotation (DESIGN §4), each step one
// event on tollgate.control.ca.<type> appended with that subject's last
// sequence, so of two concurrent steps one wins and the other gets a
// conflict (409):
//
//	start     standby → init: a new key (req.KeyAlg, default the current
//	          algorithm) is generated into the keystore; both keys trusted
//	next      init → update_clients → update_servers → standby (completed:
//	          only the new key is trusted)
//	rollback  any rotating phase → standby: only the old key is trusted
//	auto      start if in standby, then next until standby again
//
// Completing a host CA rotation (update_servers → standby) is refused
// while a joined agent's latest host cert (host_cert_key_id, recorded at
// join and renewal) is not from the new key: those agents would be locked
// out. auto stops in update_servers instead, its hint naming them;
// req.Force completes anyway.
//
// Which key signs in each phase is signingKeyFor. After each step the
// local admin identity is refreshed when its cert or its host CA bundle no
// longer matches the trusted set, and control's own host cert follows the
// host CA (CertificateSource). It needs the cert_authority rotate rule.
func (cas CAs) Rotate(ctx context.Context, c Caller, req wire.RotateRequest) (wire.Rotation, error) {
	s := cas.s
	t, err := normalizeCAType(req.Type)
	if err != nil {
		return wire.Rotation{}, err
	}
	action := strings.ToLower(req.Action)
	if action == "" {
		action = wire.RotateStart
	}
	if err := s.Authorize(c, schemas.ResourceCA, schemas.VerbRotate); err != nil {
		return wire.Rotation{}, err
	}
	var (
		phases  []string
		stopped string // why auto stopped before standby
	)
	step := func(f func() error) error {
		if err := f(); err != nil {
			return err
		}
		phases = append(phases, s.caPhase(t))
		return nil
	}
	switch action {
	case wire.RotateStart:
		err = step(func() error { return s.rotateStart(ctx, c.Actor(), t, req.KeyAlg) })
	case wire.RotateNext:
		err = step(func() error { return s.rotateNext(ctx, c.Actor(), t, req.Force) })
	case wire.RotateRollback:
		err = step(func() error { return s.rotateRollback(ctx, c.Actor(), t) })
	case wire.RotateAuto:
		if s.caPhase(t) == schemas.PhaseStandby {
			err = step(func() error { return s.rotateStart(ctx, c.Actor(), t, req.KeyAlg) })
		}
		for err == nil && s.caPhase(t) != schemas.PhaseStandby {
			if !req.Force && s.caPhase(t) == schemas.PhaseUpdateServers {
				if stale := s.staleAgents(t); len(stale) > 0 {
					stopped = staleAgentsMsg(stale)
					break
				}
			}
			err = step(func() error { return s.rotateNext(ctx, c.Actor(), t, req.Force) })
		}
	default:
		return wire.Rotation{}, invalidf("rotation action %q: use start, next, rollback or auto", req.Action)
	}
	if len(phases) > 0 {
		s.afterRotation(ctx, t)
	}
	if err != nil {
		return wire.Rotation{}, err
	}
	out, err := s.rotationState(t)
	out.Phases = phases
	if action == wire.RotateRollback {
		out.Hint = rolledBackHint(t)
	}
	if stopped != "" {
		out.Hint = "Stopped in update_servers: " + stopped
	}
	return out, err
}

// staleAgents are the joined agents whose latest host cert is not from
// the key that signs host certs in CA t's update_servers phase (the new
// key), sorted; agents without a recorded key count as stale. Only the
// host CA signs agents' host certs: for other CAs there are none.
func (s *Service) staleAgents(t string) []string {
	var stale []string
	s.View(func(st *projections.State) { stale = staleAgentsIn(st, t) })
	return stale
}

func staleAgentsIn(st *projections.State, t string) []string {
	ca, ok := st.CAs[t]
	if t != schemas.CAHost || !ok || ca.Next == nil {
		return nil
	}
	var stale []string
	for id, a := range st.Agents {
		if a.HostCertKeyID != ca.Next.KeyID {
			stale = append(stale, id)
		}
	}
	slices.Sort(stale)
	return stale
}

// staleAgentsMsg says which agents block completing a host CA rotation
// and what to do.
func staleAgentsMsg(stale []string) string {
	return fmt.Sprintf("agents %s still use host certs from the old key; they renew within a minute of update_servers (or on restart); "+
		"run `tollctl auth rotate --type=host --phase=next` again, or pass --force to complete anyway (those agents must re-join)",
		strings.Join(stale, ", "))
}

// cliType is how tollctl spells a CA type.
func cliType(t string) string { return strings.ReplaceAll(t, "_", "-") }

func (s *Service) caPhase(t string) string {
	phase := ""
	s.View(func(st *projections.State) {
		if ca, ok := st.CAs[t]; ok {
			phase = ca.Phase
		}
	})
	return phase
}

// rotatingErr is the error of start while a rotation is in progress.
func rotatingErr(t, phase string) *Error {
	return invalidf("%s CA is in phase %s: run `tollctl auth rotate --type=%s --phase=next` or `--phase=rollback`",
		t, phase, cliType(t))
}

func notRotatingErr(t, what string) *Error {
	return invalidf("%s CA is not rotating (phase standby), so there is nothing to %s: start a rotation with `tollctl auth rotate --type=%s`",
		t, what, cliType(t))
}

func (s *Service) rotateStart(ctx context.Context, actor, t, alg string) error {
	var (
		cluster string
		cur     string
		err     error
	)
	s.View(func(st *projections.State) {
		ca, ok := st.CAs[t]
		if !ok {
			err = notFoundf("CA %s does not exist yet", t)
			return
		}
		if ca.Rotating() {
			err = rotatingErr(t, ca.Phase)
			return
		}
		cluster, cur = st.Cluster.Name, ca.Active.KeyAlg
	})
	if err != nil {
		return err
	}
	if alg == "" {
		alg = cur
	}
	if alg, err = pki.NormalizeAlg(alg); err != nil {
		return invalidf("key algorithm: %v", err)
	}
	certPEM, key, err := pki.NewCA(t, alg, cluster, s.cfg.Clock.Now(), CATTL)
	if err != nil {
		return err
	}
	pin, err := pki.Pin(certPEM)
	if err != nil {
		return err
	}
	keyID := t + "-" + strings.TrimPrefix(pin, "sha256:")[:16]
	if err := s.keys.Put(ctx, keyID, key); err != nil {
		return fmt.Errorf("store the new %s CA key: %w", t, err)
	}
	_, err = s.change(ctx, actor, eventlog.KindCA, t, schemas.TypeCARotationStarted, func(st *projections.State) (any, error) {
		ca, ok := st.CAs[t]
		if !ok {
			return nil, notFoundf("CA %s does not exist yet", t)
		}
		if ca.Rotating() {
			return nil, rotatingErr(t, ca.Phase)
		}
		return schemas.CARotationStarted{CAType: t, KeyID: keyID, KeyAlg: alg, CertPEM: string(certPEM)}, nil
	})
	if err != nil {
		s.forgetKey(ctx, keyID)
		return err
	}
	s.log.Info().Str("ca", t).Str("alg", alg).Str("next_pin", pin).Str("actor", actor).Msg("started CA rotation")
	return nil
}

func (s *Service) rotateNext(ctx context.Context, actor, t string, force bool) error {
	var oldKey, typ string
	_, err := s.changeTyped(ctx, actor, t, func(st *projections.State) (string, any, error) {
		ca, ok := st.CAs[t]
		if !ok {
			return "", nil, notFoundf("CA %s does not exist yet", t)
		}
		switch ca.Phase {
		case schemas.PhaseInit:
			return schemas.TypeCARotationPhase, schemas.CARotationPhaseChanged{CAType: t, Phase: schemas.PhaseUpdateClients}, nil
		case schemas.PhaseUpdateClients:
			return schemas.TypeCARotationPhase, schemas.CARotationPhaseChanged{CAType: t, Phase: schemas.PhaseUpdateServers}, nil
		case schemas.PhaseUpdateServers:
			if stale := staleAgentsIn(st, t); len(stale) > 0 && !force {
				return "", nil, &Error{Code: CodeConflict, Message: staleAgentsMsg(stale)}
			}
			oldKey = ca.Active.KeyID
			return schemas.TypeCARotationCompleted, schemas.CARotationCompleted{CAType: t}, nil
		}
		return "", nil, notRotatingErr(t, "advance")
	}, &typ)
	if err != nil {
		return err
	}
	if typ == schemas.TypeCARotationCompleted {
		s.forgetKey(ctx, oldKey)
	}
	s.log.Info().Str("ca", t).Str("phase", s.caPhase(t)).Str("event", typ).Str("actor", actor).Msg("advanced CA rotation")
	return nil
}

func (s *Service) rotateRollback(ctx context.Context, actor, t string) error {
	var newKey, typ string
	_, err := s.changeTyped(ctx, actor, t, func(st *projections.State) (string, any, error) {
		ca, ok := st.CAs[t]
		if !ok {
			return "", nil, notFoundf("CA %s does not exist yet", t)
		}
		if !ca.Rotating() || ca.Next == nil {
			return "", nil, notRotatingErr(t, "roll back")
		}
		newKey = ca.Next.KeyID
		return schemas.TypeCARotationRolledBack, schemas.CARotationRolledBack{CAType: t}, nil
	}, &typ)
	if err != nil {
		return err
	}
	s.forgetKey(ctx, newKey)
	s.log.Info().Str("ca", t).Str("actor", actor).Msg("rolled back CA rotation")
	return nil
}

// changeTyped is change for commands whose event type depends on the
// state: check returns the type and data; typ receives the type used.
func (s *Service) changeTyped(ctx context.Context, actor, t string, check func(st *projections.State) (string, any, error), typ *string) (uint64, error) {
	subject := eventlog.ControlSubject(eventlog.KindCA, t)
	var (
		data   any
		expect uint64
		err    error
	)
	s.View(func(st *projections.State) {
		*typ, data, err = check(st)
		expect = st.SubjectSeq[subject]
	})
	if err != nil {
		return 0, err
	}
	ev, err := s.builder.Build(*typ, 1, actor, subject, data)
	if err != nil {
		return 0, err
	}
	return s.appendControl(ctx, ev, "CA", t, eventlog.ExpectLastSubjectSeq(expect))
}

// forgetKey removes a CA key no longer trusted from the keystore and the
// issuer cache; failing that is only logged (the key signs nothing more).
func (s *Service) forgetKey(ctx context.Context, keyID string) {
	if keyID == "" {
		return
	}
	s.pki.mu.Lock()
	delete(s.pki.issuers, keyID)
	s.pki.mu.Unlock()
	if err := s.keys.Delete(ctx, keyID); err != nil {
		s.log.Warn().Err(err).Str("key_id", keyID).Msg("remove an untrusted CA key from the keystore")
	}
}

// afterRotation brings control's own identities in line with the new
// phase: the local admin identity (user cert, host CA bundle) and, for
// the host CA, control's host cert (served by CertificateSource).
func (s *Service) afterRotation(ctx context.Context, t string) {
	if err := s.refreshAdminIdentity(ctx); err != nil {
		s.log.Error().Err(err).Msg("refresh the local admin identity after a CA rotation step")
	}
	if t == schemas.CAHost {
		if _, err := s.ServerCertificate(ctx); err != nil {
			s.log.Error().Err(err).Msg("re-issue control's host cert after a host CA rotation step")
		}
	}
}

// refreshAdminIdentity rewrites the local admin identity when its cert is
// no longer trusted by the user CA or its host CA bundle differs from the
// trusted one. No identity in the data dir: nothing to do.
func (s *Service) refreshAdminIdentity(ctx context.Context) error {
	p, err := profile.Load(AdminDir(s.cfg.DataDir))
	if errors.Is(err, profile.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	hostCAs := strings.Join(s.trusted(schemas.CAHost), "")
	userPool, _ := s.pools()
	cert, err := p.Certificate()
	certOK := err == nil
	if certOK {
		_, verr := cert.Verify(x509.VerifyOptions{Roots: userPool, CurrentTime: s.cfg.Clock.Now(),
			KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
		certOK = verr == nil
	}
	if certOK && string(p.HostCAPEM) == hostCAs {
		return nil
	}
	if !certOK {
		iss, err := s.pki.issue(ctx, pki.Request{Kind: schemas.CertKindUser, CommonName: AdminUser, TTL: AdminCertTTL},
			recipient{who: AdminUser, actor: AdminUser})
		if err != nil {
			return err
		}
		p.CertPEM, p.KeyPEM = []byte(iss.certPEM), []byte(iss.keyPEM)
	}
	p.HostCAPEM = []byte(hostCAs)
	if st, err := s.Cluster().Status(Caller{Kind: CallerUser, Name: AdminUser}); err == nil {
		p.CAPin = st.CAPin
	}
	return p.Save()
}

// rotationState describes CA t now, with the hint for its phase.
func (s *Service) rotationState(t string) (wire.Rotation, error) {
	var (
		out wire.Rotation
		err error
	)
	s.View(func(st *projections.State) {
		ca, ok := st.CAs[t]
		if !ok {
			err = notFoundf("CA %s does not exist yet", t)
			return
		}
		out = wire.Rotation{Type: t, Phase: ca.Phase, KeyAlg: ca.Active.KeyAlg, Trusted: append([]string{}, ca.Trusted...)}
		if out.ActivePin, err = pki.Pin([]byte(ca.Active.CertPEM)); err != nil {
			return
		}
		if ca.Next != nil {
			out.KeyAlg = ca.Next.KeyAlg
			if out.NextPin, err = pki.Pin([]byte(ca.Next.CertPEM)); err != nil {
				return
			}
		}
	})
	out.Hint = phaseHint(t, out.Phase, out.ActivePin)
	if out.Phase == schemas.PhaseUpdateServers {
		out.Waiting = s.staleAgents(t)
	}
	return out, err
}

// Rotation describes CA caType's rotation now (phase, keys, the agents a
// host CA rotation waits for) without changing it; it needs the
// cert_authority read right.
func (cas CAs) Rotation(c Caller, caType string) (wire.Rotation, error) {
	s := cas.s
	t, err := normalizeCAType(caType)
	if err != nil {
		return wire.Rotation{}, err
	}
	if err := s.Authorize(c, schemas.ResourceCA, schemas.VerbRead); err != nil {
		return wire.Rotation{}, err
	}
	return s.rotationState(t)
}

// phaseHint says what an operator does in phase before the next step.
func phaseHint(t, phase, activePin string) string {
	next := fmt.Sprintf("`tollctl auth rotate --type=%s --phase=next`", cliType(t))
	rollback := fmt.Sprintf("`tollctl auth rotate --type=%s --phase=rollback`", cliType(t))
	switch phase {
	case schemas.PhaseInit:
		todo := map[string]string{
			schemas.CAUser: "Control and agents follow the event log and trust both keys already.",
			schemas.CAHost: "Clients must trust both keys before update_servers: `toll login` fetches the new bundle " +
				"(tollctl auth rotate updates its own profile); agents follow the event log.",
			schemas.CADB: "Agents follow the event log and trust both keys already.",
			schemas.CADBClient: "Give every database the new client CA bundle (both keys): " +
				"`tollctl auth export --type=db-client` into its client CA file (CockroachDB ca-client.crt, PostgreSQL ssl_ca_file), then reload it.",
		}[t]
		return fmt.Sprintf("Both keys are trusted; the old key still signs. %s Then run %s (or %s).", todo, next, rollback)
	case schemas.PhaseUpdateClients:
		todo := map[string]string{
			schemas.CAUser:     "New user certs (toll login) come from the new key; certs from the old key work until completion.",
			schemas.CAHost:     "Server certs still come from the old key; make sure every client trusts both (toll login) before moving on.",
			schemas.CADB:       "The db CA signs only server certs: nothing changes for clients.",
			schemas.CADBClient: "Agents get per-session db_client certs from the new key.",
		}[t]
		return fmt.Sprintf("%s Then run %s to move servers to the new key (or %s).", todo, next, rollback)
	case schemas.PhaseUpdateServers:
		todo := map[string]string{
			schemas.CAUser: "The user CA signs only client certs: nothing changes for servers.",
			schemas.CAHost: "Control now serves a cert from the new key; agents renew their host certs from the new key " +
				"within a minute (or on restart), and completion waits for all of them.",
			schemas.CADB:       "Re-sign each database's server cert with `tollctl auth sign` and reload it.",
			schemas.CADBClient: "The db_client CA signs only client certs: nothing changes for servers.",
		}[t]
		return fmt.Sprintf("%s Then run %s to complete: the old key stops being trusted (or %s).", todo, next, rollback)
	}
	todo := map[string]string{
		schemas.CAUser: "Users whose cert is from the old key log in again (toll login).",
		schemas.CAHost: fmt.Sprintf("Clients whose profile trusts only the old host CA log in again with `toll login --ca-pin=%s`.", activePin),
		schemas.CADB:   "Agents follow the event log.",
		schemas.CADBClient: "Remove the old key from the databases' client CA files: " +
			"`tollctl auth export --type=db-client` now lists only the new one.",
	}[t]
	return fmt.Sprintf("Not rotating: only the key with pin %s is trusted. %s", activePin, todo)
}

func rolledBackHint(t string) string {
	return fmt.Sprintf("Rolled back: only the old %s CA key is trusted and signs; certs from the new key no longer work "+
		"(log in again, re-sign database certs made since update_clients).", t)
}
