package control

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/tollgate-db/tollgate/control/keystore"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/access"
	"github.com/tollgate-db/tollgate/schemas"
)

// TOTP parameters: RFC 6238's defaults, which every authenticator app
// takes (SHA-1, 6 digits, 30 s); a code is accepted one step either side.
const (
	totpPeriod = 30
	totpSkew   = 1
)

// ErrMFARequired is the failure of a login without the one-time code its
// user's second factor asks for.
var ErrMFARequired = errors.New("a one-time code is required")

// MFA is users' second factors: TOTP, its secret sealed in the keystore
// (the log has only that a user enrolled one), checked at login, each
// code good once.
type MFA struct{ s *Service }

// MFA returns the service's second factors.
func (s *Service) MFA() MFA { return MFA{s} }

func totpName(user string) string        { return "mfa/totp/" + user }
func totpPendingName(user string) string { return "mfa/totp-pending/" + user }
func totpUsedName(user string) string    { return "mfa/totp-used/" + user }

// BeginTOTP makes a new TOTP secret for the caller, kept pending until
// ConfirmTOTP proves an app has it, and returns its otpauth URI (shown to
// the caller once; never logged).
func (m MFA) BeginTOTP(ctx context.Context, c Caller) (wire.TOTPEnrollment, error) {
	s := m.s
	if c.Kind != CallerUser {
		return wire.TOTPEnrollment{}, forbiddenf("a second factor is a user's")
	}
	var cluster, has string
	s.View(func(st *projections.State) {
		cluster = st.Cluster.Name
		if u, ok := st.Users[c.Name]; ok {
			has = u.MFA
		}
	})
	if has != "" {
		return wire.TOTPEnrollment{}, existsf("you have a second factor (%s) already: `toll mfa rm` it first", has)
	}
	key, err := totp.Generate(totp.GenerateOpts{Issuer: "Tollgate " + cluster, AccountName: c.Name, Period: totpPeriod})
	if err != nil {
		return wire.TOTPEnrollment{}, fmt.Errorf("generate TOTP secret: %w", err)
	}
	if err := s.keys.PutSecret(ctx, totpPendingName(c.Name), []byte(key.Secret())); err != nil {
		return wire.TOTPEnrollment{}, fmt.Errorf("keep TOTP secret: %w", err)
	}
	return wire.TOTPEnrollment{URI: key.URL(), Secret: key.Secret()}, nil
}

// ConfirmTOTP enrolls the caller's pending secret once code is valid for
// it: the secret becomes the caller's second factor (user.mfa_added).
func (m MFA) ConfirmTOTP(ctx context.Context, c Caller, code wire.MFACode) error {
	s := m.s
	if c.Kind != CallerUser {
		return forbiddenf("a second factor is a user's")
	}
	sec, err := s.keys.GetSecret(ctx, totpPendingName(c.Name))
	if errors.Is(err, keystore.ErrNotFound) {
		return notFoundf("no TOTP enrollment is pending: run `toll mfa add --type=totp` first")
	}
	if err != nil {
		return fmt.Errorf("read TOTP secret: %w", err)
	}
	step, ok := validTOTP(string(sec), code.Code, s.cfg.Clock.Now())
	if !ok {
		return invalidf("that code is not the app's current one: check the device's clock and type the code it shows now")
	}
	if err := s.keys.PutSecret(ctx, totpName(c.Name), sec); err != nil {
		return fmt.Errorf("keep TOTP secret: %w", err)
	}
	// The enrolling code is spent too: a login needs the next one.
	if err := s.keys.PutSecret(ctx, totpUsedName(c.Name), []byte(strconv.FormatInt(step, 10))); err != nil {
		return fmt.Errorf("spend one-time code: %w", err)
	}
	_, err = s.change(ctx, c.Actor(), eventlog.KindUser, c.Name, schemas.TypeUserMFAAdded, func(st *projections.State) (any, error) {
		if _, ok := st.Users[c.Name]; !ok {
			return nil, unauthorizedf("user %s no longer exists", c.Name)
		}
		return schemas.UserMFAAdded{Name: c.Name, Type: schemas.MFATOTP}, nil
	})
	if err != nil {
		return err
	}
	_ = s.keys.DeleteSecret(ctx, totpPendingName(c.Name))
	return nil
}

// Remove removes user's second factor: the caller's own with a valid code,
// or anyone's with a rule allowing update on user (tollctl users
// reset-mfa).
func (m MFA) Remove(ctx context.Context, c Caller, r wire.MFARemove) error {
	s := m.s
	user := r.User
	if user == "" {
		user = c.Name
	}
	if c.Kind != CallerUser {
		return forbiddenf("a second factor is a user's")
	}
	if user == c.Name {
		if err := m.checkCode(ctx, user, r.Code); err != nil {
			return err
		}
	}
	_, err := s.change(ctx, c.Actor(), eventlog.KindUser, user, schemas.TypeUserMFARemoved, func(st *projections.State) (any, error) {
		if user != c.Name {
			if err := authorizeIn(st, c, schemas.ResourceUser, schemas.VerbUpdate); err != nil {
				return nil, err
			}
		}
		u, ok := st.Users[user]
		if !ok {
			return nil, notFoundf("user %s not found", user)
		}
		if u.MFA == "" {
			return nil, notFoundf("user %s has no second factor", user)
		}
		return schemas.UserMFARemoved{Name: user, Type: u.MFA}, nil
	})
	if err != nil {
		return err
	}
	if err := s.keys.DeleteSecret(ctx, totpName(user)); err != nil && !errors.Is(err, keystore.ErrNotFound) {
		return fmt.Errorf("remove TOTP secret: %w", err)
	}
	return nil
}

// checkCode checks code against user's TOTP secret and spends it: a code
// (a time step) is good once, also across controls sharing the keystore.
func (m MFA) checkCode(ctx context.Context, user, code string) error {
	s := m.s
	if code == "" {
		return &Error{Code: CodeMFARequired, Err: ErrMFARequired,
			Message: "a one-time code from your authenticator app is required: toll login asks for it (or pass --otp)"}
	}
	sec, err := s.keys.GetSecret(ctx, totpName(user))
	if err != nil {
		return fmt.Errorf("read TOTP secret: %w", err)
	}
	step, ok := validTOTP(string(sec), code, s.cfg.Clock.Now())
	if !ok {
		return unauthorizedf("wrong one-time code")
	}
	if last, err := s.keys.GetSecret(ctx, totpUsedName(user)); err == nil {
		if n, err := strconv.ParseInt(string(last), 10, 64); err == nil && step <= n {
			return unauthorizedf("that one-time code was used already: wait for the next one")
		}
	}
	if err := s.keys.PutSecret(ctx, totpUsedName(user), []byte(strconv.FormatInt(step, 10))); err != nil {
		return fmt.Errorf("spend one-time code: %w", err)
	}
	return nil
}

// validTOTP reports whether code is secret's at now, within the skew, and
// the time step it matched.
func validTOTP(secret, code string, now time.Time) (int64, bool) {
	opts := totp.ValidateOpts{Period: totpPeriod, Skew: 0, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	for d := -totpSkew; d <= totpSkew; d++ {
		t := now.Add(time.Duration(d*totpPeriod) * time.Second)
		if ok, err := totp.ValidateCustom(code, secret, t, opts); err == nil && ok {
			return t.Unix() / totpPeriod, true
		}
	}
	return 0, false
}

// secondFactor checks the login's code when user has a second factor, and
// refuses a user whose roles require one.
func (s *Service) secondFactor(ctx context.Context, user, code string) error {
	var has string
	s.View(func(st *projections.State) {
		if u, ok := st.Users[user]; ok {
			has = u.MFA
		}
	})
	if has == "" {
		return nil // a role that requires one reaches nothing until enrolled (access.MFAMissing)
	}
	return s.MFA().checkCode(ctx, user, code)
}

// SessionMFACertTTL is how long a database cert issued after a one-time
// code (require_mfa: session) stays valid: long enough to open one
// session, which then lasts as long as the user's cert.
const SessionMFACertTTL = time.Minute

// sessionFactor checks the one-time code of a database cert request when
// c's roles ask one per session, and says whether they do.
func (s *Service) sessionFactor(ctx context.Context, c Caller, code string) (bool, error) {
	var role, has string
	var per bool
	s.View(func(st *projections.State) {
		if u, ok := st.Users[c.Name]; ok {
			role, per = access.SessionMFARequired(st, u.Roles)
			has = u.MFA
		}
	})
	if !per {
		return false, nil
	}
	if has == "" {
		return true, forbiddenf("role %s requires a second factor for each session and you have none: enroll one with `toll mfa add --type=totp`", role)
	}
	if err := s.MFA().checkCode(ctx, c.Name, code); err != nil {
		if !errors.Is(err, ErrMFARequired) {
			s.throttle.fail(c.Name, s.cfg.Clock.Now())
		}
		return true, err
	}
	return true, nil
}
