package schemas

// Second factors (MFA).
const (
	// MFATOTP is a time-based one-time password (RFC 6238) app.
	MFATOTP = "totp"
	// RequireMFALogin: holders of the role log in with a second factor,
	// and reach nothing before they enrolled one.
	RequireMFALogin = "login"
	// RequireMFASession: login as RequireMFALogin, and a code at each
	// database session too, for a database cert of one minute that
	// opens it (SessionMFACertTTL).
	RequireMFASession = "session"
)

// UserMFAAdded records that a user enrolled a second factor. The secret
// stays in control's keystore, sealed; only its type is in the log.
type UserMFAAdded struct {
	Name string `json:"name"`
	Type string `json:"type"` // MFATOTP
}

// UserMFARemoved records that a user's second factor was removed (by the
// user with a valid code, or by an admin: tollctl users reset-mfa).
type UserMFARemoved struct {
	Name string `json:"name"`
	Type string `json:"type"`
}
