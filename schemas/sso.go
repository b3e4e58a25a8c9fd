package schemas

// Single sign-on (OpenID Connect).
const (
	// ResourceSSOConnector is the admin resource of single sign-on
	// connectors (rules with create/read/list/update/delete).
	ResourceSSOConnector = "sso_connector"
	// ConnectorOIDC is the kind of an OpenID Connect connector.
	ConnectorOIDC = "oidc"
	// DefaultUsernameClaim names Tollgate's user after this claim of the
	// provider's ID token or userinfo.
	DefaultUsernameClaim = "email"
)

// OIDCConnector is an OpenID Connect provider people log in with (toll
// login --auth=oidc). Its client secret stays in control's keystore,
// sealed; the log says only whether it has one.
type OIDCConnector struct {
	Name string `json:"name"`
	// IssuerURL is the provider's issuer; its discovery document is at
	// IssuerURL/.well-known/openid-configuration.
	IssuerURL string `json:"issuer_url"`
	ClientID  string `json:"client_id"`
	// HasSecret tells whether the client has a secret (a confidential
	// client); a public client has none and relies on PKCE alone.
	HasSecret bool `json:"has_secret"`
	// Scopes asked for; "openid" is always among them.
	Scopes []string `json:"scopes"`
	// UsernameClaim names the claim whose value is the Tollgate user name
	// (DefaultUsernameClaim when empty).
	UsernameClaim string `json:"username_claim,omitempty"`
	// ClaimsToRoles maps claim values to roles; a login gets the roles of
	// every mapping that matches, and none matching refuses the login.
	ClaimsToRoles []ClaimMapping `json:"claims_to_roles"`
	// Traits are the user's traits, each value a literal or a template of
	// claims: {{email}}, {{groups}} (every value of a list claim) or
	// {{email.local}} (the part of an email before the @).
	Traits map[string][]string `json:"traits,omitempty"`
	// CAPEM, when set, is the only CA trusted for the provider's TLS
	// (else the system's roots are).
	CAPEM string `json:"ca_pem,omitempty"`
}

// ClaimMapping gives Roles to a login whose Claim has Value (or, for a
// list claim, contains it). Value "*" matches any value.
type ClaimMapping struct {
	Claim string   `json:"claim"`
	Value string   `json:"value"`
	Roles []string `json:"roles"`
}

// SSOConnectorSaved creates or replaces a single sign-on connector.
type SSOConnectorSaved struct {
	Kind string        `json:"kind"` // ConnectorOIDC
	OIDC OIDCConnector `json:"oidc"`
}

// SSOConnectorDeleted removes a connector; its users stay, and log in
// no more through it.
type SSOConnectorDeleted struct {
	Name string `json:"name"`
}
