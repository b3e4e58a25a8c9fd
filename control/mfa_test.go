package control

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/eventlog/memlog"
	"github.com/tollgate-db/tollgate/internal/testclock"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestTOTPSecondFactor: alice enrolls a TOTP app (a wrong first code
// enrolls nothing), then logs in only with a code: none asks for one, a
// wrong one fails and counts toward the lockout, a used one is refused,
// the next step's works. The secret is in no event. A role requiring a
// second factor reaches nothing until one is enrolled; an admin's reset
// removes it.
func TestTOTPSecondFactor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	clock := testclock.New(time.Date(2026, 12, 1, 12, 0, 5, 0, time.UTC))
	ctl := memlog.New(eventlog.ControlStream)
	svc, err := New(Config{Control: ctl, Audit: memlog.New(eventlog.AuditStream), DataDir: t.TempDir(), ClusterName: "c",
		Clock: clock, Logger: zerolog.Nop(), FailureDelay: time.Millisecond})
	require.NoError(t, err)
	require.NoError(t, svc.Start(ctx))
	admin, alice := Caller{Kind: CallerUser, Name: AdminUser}, Caller{Kind: CallerUser, Name: "alice"}
	_, err = svc.Roles().Create(ctx, admin, schemas.Role{Name: "strict", Spec: schemas.RoleSpec{
		Options: schemas.RoleOptions{RequireMFA: schemas.RequireMFALogin},
		Allow:   schemas.RoleConditions{DBLabels: map[string][]string{"*": {"*"}}, DBUsers: []string{"*"}, DBNames: []string{"*"}}}})
	require.NoError(t, err)
	inv, err := svc.Users().Add(ctx, admin, schemas.User{Name: "alice", Roles: []string{"strict"}})
	require.NoError(t, err)
	const pw = "correct horse battery staple"
	_, err = svc.Auth().Signup(ctx, wire.Login{Invite: inv.Invite, Password: pw, PublicKeyPEM: pubKey(t)}, "")
	require.NoError(t, err)
	_, err = svc.Databases().Create(ctx, admin, schemas.Database{Name: "pg", Protocol: ProtocolPostgres, URI: "127.0.0.1:5432"})
	require.NoError(t, err)
	decide := func() access.Decision {
		var d access.Decision
		svc.View(func(st *projections.State) {
			id, _ := access.IdentityFor(st, "alice", clock.Now())
			d = access.Decide(st, id, "pg", "alice", "alice", clock.Now())
		})
		return d
	}
	require.False(t, decide().Allowed, "role strict reaches nothing before a second factor")
	require.Contains(t, decide().Reason, "toll mfa add")

	enr, err := svc.MFA().BeginTOTP(ctx, alice)
	require.NoError(t, err)
	u, err := url.Parse(enr.URI)
	require.NoError(t, err)
	require.Equal(t, enr.Secret, u.Query().Get("secret"))
	code := func() string {
		c, err := totp.GenerateCode(enr.Secret, clock.Now())
		require.NoError(t, err)
		return c
	}
	require.Equal(t, CodeInvalid, apiCode(t, svc.MFA().ConfirmTOTP(ctx, alice, wire.MFACode{Code: "000000"})))
	require.NoError(t, svc.MFA().ConfirmTOTP(ctx, alice, wire.MFACode{Code: code()}))
	require.True(t, decide().Allowed, "enrolled: role strict allows")

	login := func(otp string) error {
		_, err := svc.Auth().Login(ctx, wire.Login{User: "alice", Password: pw, OTP: otp, PublicKeyPEM: pubKey(t)}, "")
		return err
	}
	require.Equal(t, CodeMFARequired, apiCode(t, login("")))
	require.Equal(t, CodeUnauthorized, apiCode(t, login(code())), "the enrolling code is spent")
	clock.Add(30 * time.Second)
	require.NoError(t, login(code()))
	require.Equal(t, CodeUnauthorized, apiCode(t, login(code())), "a code is good once")
	require.Equal(t, CodeUnauthorized, apiCode(t, login("123456")))
	fails, _ := svc.throttle.state("alice", clock.Now())
	require.Equal(t, 2, fails, "wrong and reused codes count toward the lockout (a good login reset the count)")
	clock.Add(30 * time.Second)
	require.NoError(t, login(code()))

	// A password reset does not skip the second factor.
	inv, err = svc.Users().Reset(ctx, admin, "alice")
	require.NoError(t, err)
	signup := func(otp string) error {
		_, err := svc.Auth().Signup(ctx, wire.Login{Invite: inv.Invite, Password: pw, OTP: otp, PublicKeyPEM: pubKey(t)}, "")
		return err
	}
	require.Equal(t, CodeMFARequired, apiCode(t, signup("")))
	clock.Add(30 * time.Second)
	require.NoError(t, signup(code()))

	require.NoError(t, ctl.Read(ctx, eventlog.Query{}, func(r eventlog.Record) error {
		require.NotContains(t, string(r.Event.Data), enr.Secret, "the secret is in no event (%s)", r.Event.Type)
		return nil
	}))

	require.Equal(t, CodeUnauthorized, apiCode(t, svc.MFA().Remove(ctx, alice, wire.MFARemove{Code: "000000"})), "removing one's own needs a code")
	require.NoError(t, svc.MFA().Remove(ctx, admin, wire.MFARemove{User: "alice"}), "an admin's reset")
	require.NoError(t, login(""), "no second factor: the password alone")
	require.False(t, decide().Allowed, "and role strict reaches nothing again")
}
