package wire

import (
	"time"

	"github.com/tollgate-db/tollgate/schemas"
)

// SSOConnector is a single sign-on connector as sent to control (tollctl
// sso create/update -f): an OIDC connector and, for a confidential
// client, its secret (kept in control's keystore; never in an answer or
// event). On update an empty secret keeps the one stored.
type SSOConnector struct {
	schemas.OIDCConnector
	ClientSecret string `json:"client_secret,omitempty"`
}

// SSOConnectorView is a connector as control shows it.
type SSOConnectorView struct {
	schemas.OIDCConnector
	Kind      string    `json:"kind"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	CreatedBy string    `json:"created_by,omitempty"`
}

// SSOBegin is POST /v1/sso/begin: start a login through Connector ("" for
// the cluster's only connector), coming back to RedirectURL, a loopback
// http URL toll listens on.
type SSOBegin struct {
	Connector   string `json:"connector,omitempty"`
	RedirectURL string `json:"redirect_url"`
}

// SSOAuth answers SSOBegin: the URL to open in a browser, and the state
// the redirect must come back with (anything else is not this login's).
type SSOAuth struct {
	Connector string `json:"connector"`
	URL       string `json:"url"`
	State     string `json:"state"`
}

// SSOFinish is POST /v1/sso/finish: the redirect's code and state, or,
// after an answer asking for a second factor, that answer's Pending and
// the one-time code.
type SSOFinish struct {
	State        string        `json:"state,omitempty"`
	Code         string        `json:"code,omitempty"`
	Pending      string        `json:"pending,omitempty"`
	OTP          string        `json:"otp,omitempty"`
	PublicKeyPEM string        `json:"public_key_pem"`
	TTL          time.Duration `json:"ttl,omitempty"`
}

// SSOLogin answers SSOFinish: a user cert, or (MFARequired) a sealed
// Pending login to finish with a one-time code within a few minutes.
type SSOLogin struct {
	Cert        *Cert  `json:"cert,omitempty"`
	MFARequired bool   `json:"mfa_required,omitempty"`
	Pending     string `json:"pending,omitempty"`
	User        string `json:"user,omitempty"`
}
