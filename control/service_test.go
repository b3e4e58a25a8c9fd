package control

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/schemas"
)

type fixture struct {
	svc      *Service
	ctl, aud *memlog.Stream
	dir      string
	admin    Caller
	logs     *bytes.Buffer
	cancel   func()
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{ctl: memlog.New(eventlog.ControlStream), aud: memlog.New(eventlog.AuditStream), dir: t.TempDir(), logs: &bytes.Buffer{}}
	f.start(t)
	return f
}

func (f *fixture) start(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	t.Cleanup(cancel)
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	svc, err := New(Config{Control: f.ctl, Audit: f.aud, Validator: v, DataDir: f.dir, ClusterName: "test",
		Logger: zerolog.New(f.logs), FailureDelay: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, svc.Start(ctx))
	f.svc = svc
	f.admin = Caller{Kind: CallerUser, Name: AdminUser}
}

func pubKey(t *testing.T) string {
	t.Helper()
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(k.Public())
	require.NoError(t, err)
	return string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}))
}

func apiCode(t *testing.T, err error) string {
	t.Helper()
	var e *Error
	require.True(t, errors.As(err, &e), "want *Error, got %v", err)
	return e.Code
}

func TestBootstrapIdempotent(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	last, err := f.ctl.LastSeq(ctx)
	require.NoError(t, err)
	st, err := f.svc.Cluster().Status(f.admin)
	require.NoError(t, err)
	require.Equal(t, "test", st.Cluster)
	require.Len(t, st.CAs, 4)
	require.NotEmpty(t, st.CAPin)
	f.cancel()
	f.start(t)
	again, err := f.ctl.LastSeq(ctx)
	require.NoError(t, err)
	require.Equal(t, last, again, "a second start appends nothing")
	p, err := f.svc.EnsureAdminIdentity(ctx, "127.0.0.1:7080")
	require.NoError(t, err)
	fi, err := os.Stat(filepath.Join(p.Dir, "user.key"))
	require.NoError(t, err)
	require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
}

func TestUsersSignupLogin(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.Users().Add(ctx, f.admin, schemas.User{Name: "alice", Roles: []string{"nope"}})
	require.Equal(t, CodeInvalid, apiCode(t, err))
	require.ErrorContains(t, err, `unknown role "nope"`)

	inv, err := f.svc.Users().Add(ctx, f.admin, schemas.User{Name: "alice", Roles: []string{"access"},
		Traits: map[string][]string{"db_users": {"*"}}})
	require.NoError(t, err)
	users, err := f.svc.Users().List(f.admin)
	require.NoError(t, err)
	require.Len(t, users, 2, "read your writes")

	const pw = "correct horse battery"
	_, err = f.svc.Auth().Signup(ctx, wire.Login{Invite: inv.Invite, Password: "short", PublicKeyPEM: pubKey(t)}, "")
	require.ErrorContains(t, err, "too short")
	cert, err := f.svc.Auth().Signup(ctx, wire.Login{Invite: inv.Invite, Password: pw, PublicKeyPEM: pubKey(t)}, "")
	require.NoError(t, err)
	require.Equal(t, "alice", cert.User)
	_, err = f.svc.Auth().Signup(ctx, wire.Login{Invite: inv.Invite, Password: pw, PublicKeyPEM: pubKey(t)}, "")
	require.Equal(t, CodeUnauthorized, apiCode(t, err), "an invite is single-use")

	c, err := f.svc.Auth().Login(ctx, wire.Login{User: "alice", Password: pw, TTL: time.Hour, PublicKeyPEM: pubKey(t)}, "")
	require.NoError(t, err)
	require.WithinDuration(t, time.Now().Add(time.Hour), c.NotAfter, 2*time.Minute)

	alice := Caller{Kind: CallerUser, Name: "alice"}
	_, err = f.svc.Users().Add(ctx, alice, schemas.User{Name: "mallory", Roles: []string{"editor"}})
	require.Equal(t, CodeForbidden, apiCode(t, err), "access role may not create users")

	for i := 0; i < MaxFailures; i++ {
		_, err = f.svc.Auth().Login(ctx, wire.Login{User: "alice", Password: "Tr0ub4dor&3-nope", PublicKeyPEM: pubKey(t)}, "")
		require.Equal(t, CodeUnauthorized, apiCode(t, err))
	}
	_, err = f.svc.Auth().Login(ctx, wire.Login{User: "alice", Password: pw, PublicKeyPEM: pubKey(t)}, "")
	require.Equal(t, CodeLocked, apiCode(t, err), "locked out after repeated failures")

	checkNoSecrets(t, f, pw, "Tr0ub4dor&3-nope", inv.Invite)
	require.NotContains(t, f.logs.String(), "append audit event")
}

func TestTokens(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	tok, err := f.svc.Tokens().Add(ctx, f.admin, wire.TokenAdd{Type: "db"})
	require.NoError(t, err)
	require.Len(t, tok.Value, 32)
	ls, err := f.svc.Tokens().List(f.admin)
	require.NoError(t, err)
	require.Len(t, ls, 1)
	require.Empty(t, ls[0].Value)
	f.svc.View(func(st *projections.State) {
		_, err = tokenUsable(st, tok.Value, time.Now().Add(time.Hour))
	})
	require.Equal(t, CodeExpired, apiCode(t, err))
	require.NoError(t, f.svc.Tokens().Rm(ctx, f.admin, tok.Value))
	ls, err = f.svc.Tokens().List(f.admin)
	require.NoError(t, err)
	require.Empty(t, ls)
	checkNoSecrets(t, f, tok.Value)
}

func TestRoleConcurrentUpdate(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.Roles().Create(ctx, f.admin, schemas.Role{Name: "dev"})
	require.NoError(t, err)
	// Two admins read the same version, then both write: exactly one wins.
	var expect uint64
	f.svc.View(func(st *projections.State) { expect = st.SubjectSeq[eventlog.ControlSubject(eventlog.KindRole, "dev")] })
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ev, err := f.svc.builder.Build(schemas.TypeRoleUpdated, 1, AdminUser, eventlog.ControlSubject(eventlog.KindRole, "dev"),
				schemas.Role{Name: "dev", Spec: schemas.RoleSpec{Options: schemas.RoleOptions{MaxSessionTTL: "1h"}}})
			require.NoError(t, err)
			_, errs[i] = f.svc.appendControl(ctx, ev, eventlog.KindRole, "dev", eventlog.ExpectLastSubjectSeq(expect))
		}()
	}
	wg.Wait()
	var wins, conflicts int
	for _, err := range errs {
		if err == nil {
			wins++
		} else {
			require.Equal(t, CodeConflict, apiCode(t, err))
			require.ErrorContains(t, err, "role dev changed concurrently; retry")
			conflicts++
		}
	}
	require.Equal(t, 1, wins)
	require.Equal(t, 1, conflicts)
}

func TestReplayReproducesState(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := context.Background()
	_, err := f.svc.Users().Add(ctx, f.admin, schemas.User{Name: "bob", Roles: []string{"access"}})
	require.NoError(t, err)
	_, err = f.svc.Locks().Add(ctx, f.admin, wire.Lock{LockCreated: schemas.LockCreated{Target: schemas.LockTarget{User: "bob"}, Message: "x"}})
	require.NoError(t, err)
	replayed := projections.New()
	require.NoError(t, f.ctl.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error { return replayed.Apply(r) }))
	var want []byte
	f.svc.View(func(st *projections.State) { want, err = json.Marshal(st) })
	require.NoError(t, err)
	got, err := json.Marshal(replayed)
	require.NoError(t, err)
	require.JSONEq(t, string(want), string(got))
}

// checkNoSecrets scans every event and log line for key material and the
// given secrets.
func checkNoSecrets(t *testing.T, f *fixture, secrets ...string) {
	t.Helper()
	var all bytes.Buffer
	for _, s := range []*memlog.Stream{f.ctl, f.aud} {
		require.NoError(t, s.Read(context.Background(), eventlog.Query{}, func(r eventlog.Record) error {
			b, _ := json.Marshal(r.Event)
			all.Write(b)
			return nil
		}))
	}
	all.Write(f.logs.Bytes())
	require.Greater(t, all.Len(), 0)
	require.False(t, strings.Contains(all.String(), "PRIVATE KEY"), "private key material in events or logs")
	for i, s := range secrets {
		require.False(t, strings.Contains(all.String(), s), "secret %d found in events or logs", i)
	}
}

// svcWithControl restarts the service on another control stream wrapper
// (same data dir, audit stream).
func (f *fixture) svcWithControl(t *testing.T, ctl eventlog.Stream) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	f.cancel = cancel
	t.Cleanup(cancel)
	v, err := schemas.NewValidator()
	require.NoError(t, err)
	svc, err := New(Config{Control: ctl, Audit: f.aud, Validator: v, DataDir: f.dir, ClusterName: "test",
		Logger: zerolog.New(f.logs), FailureDelay: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, svc.Start(ctx))
	f.svc = svc
}
