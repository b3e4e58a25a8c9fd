package wire

// TOTPEnrollment answers POST /v1/mfa/totp: the new secret, as the
// otpauth URI an authenticator app scans and as text, shown to the user
// once (ConfirmTOTP with a first code enrolls it).
type TOTPEnrollment struct {
	URI    string `json:"uri"`
	Secret string `json:"secret"`
}

// MFACode is a one-time code (POST /v1/mfa/totp/confirm).
type MFACode struct {
	Code string `json:"code"`
}

// MFARemove is POST /v1/mfa/remove: the caller's second factor, with a
// current code, or User's (an admin's tollctl users reset-mfa).
type MFARemove struct {
	User string `json:"user,omitempty"`
	Code string `json:"code,omitempty"`
}
