package sso

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/zitadel/oidc/v3/pkg/client/rp"
	"github.com/zitadel/oidc/v3/pkg/oidc"

	"github.com/tollgate-db/tollgate/schemas"
)

// ErrProvider is a failure of the provider: unreachable, a bad discovery
// document, a refused code, an ID token that does not verify.
var ErrProvider = errors.New("OpenID provider")

// httpTimeout bounds each request to the provider.
const httpTimeout = 15 * time.Second

// Flow is what a login carries from its start to its finish: the
// connector, the loopback redirect the browser comes back to, the PKCE
// verifier (the provider sees only its S256 challenge until the
// exchange) and the nonce the ID token must carry.
type Flow struct {
	Connector string `json:"c"`
	Redirect  string `json:"r"`
	Verifier  string `json:"v"`
	Nonce     string `json:"n"`
}

// NewFlow returns a flow for conn back to redirect, with a fresh verifier
// and nonce.
func NewFlow(connector, redirect string) (Flow, error) {
	v, err := random(32)
	if err != nil {
		return Flow{}, err
	}
	n, err := random(16)
	if err != nil {
		return Flow{}, err
	}
	return Flow{Connector: connector, Redirect: redirect, Verifier: v, Nonce: n}, nil
}

func random(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// Provider is a connector's provider as discovered for one flow.
type Provider struct {
	rp   rp.RelyingParty
	flow Flow
}

// Scopes returns conn's scopes with "openid" first.
func Scopes(conn schemas.OIDCConnector) []string {
	out := []string{oidc.ScopeOpenID}
	for _, s := range conn.Scopes {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

// HTTPClient returns the client control reaches conn's provider with: its
// CA when it names one, the system's roots otherwise.
func HTTPClient(conn schemas.OIDCConnector) (*http.Client, error) {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	// A client is made per login (a few requests): no idle connections
	// left behind for each one.
	tr.DisableKeepAlives = true
	if conn.CAPEM != "" {
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM([]byte(conn.CAPEM)) {
			return nil, errors.New("ca_pem holds no PEM certificate")
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr, Timeout: httpTimeout}, nil
}

// Discover reads conn's discovery document for flow (secret is the
// client's, "" for a public client).
func Discover(ctx context.Context, conn schemas.OIDCConnector, secret string, flow Flow) (*Provider, error) {
	hc, err := HTTPClient(conn)
	if err != nil {
		return nil, err
	}
	nonce := flow.Nonce
	r, err := rp.NewRelyingPartyOIDC(ctx, conn.IssuerURL, conn.ClientID, secret, flow.Redirect, Scopes(conn),
		rp.WithHTTPClient(hc), rp.WithVerifierOpts(rp.WithNonce(func(context.Context) string { return nonce })))
	if err != nil {
		return nil, fmt.Errorf("%w %s: discovery: %v", ErrProvider, conn.IssuerURL, err)
	}
	return &Provider{rp: r, flow: flow}, nil
}

// AuthURL is where the browser logs in: the provider's authorization
// endpoint with state, the PKCE challenge and the nonce.
func (p *Provider) AuthURL(state string) string {
	return rp.AuthURL(state, p.rp, rp.WithCodeChallenge(oidc.NewSHACodeChallenge(p.flow.Verifier)),
		rp.AuthURLOpt(rp.WithURLParam("nonce", p.flow.Nonce)))
}

// Exchange trades code for tokens, verifies the ID token (signature,
// issuer, audience, expiry, nonce) and returns its claims with the
// userinfo endpoint's over them (that endpoint must name the same
// subject).
func (p *Provider) Exchange(ctx context.Context, code string) (Claims, error) {
	tokens, err := rp.CodeExchange[*oidc.IDTokenClaims](ctx, code, p.rp, rp.WithCodeVerifier(p.flow.Verifier))
	if err != nil {
		return nil, fmt.Errorf("%w refused the login: %v", ErrProvider, err)
	}
	claims := Claims{}
	if err := merge(claims, tokens.IDTokenClaims); err != nil {
		return nil, err
	}
	if p.rp.UserinfoEndpoint() == "" {
		return claims, nil
	}
	info, err := rp.Userinfo[*oidc.UserInfo](ctx, tokens.AccessToken, tokens.TokenType, tokens.IDTokenClaims.GetSubject(), p.rp)
	if err != nil {
		return nil, fmt.Errorf("%w userinfo: %v", ErrProvider, err)
	}
	if err := merge(claims, info); err != nil {
		return nil, err
	}
	return claims, nil
}

// merge adds v's claims (its JSON, which carries its extra claims too)
// to c.
func merge(c Claims, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("read claims: %w", err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		return fmt.Errorf("read claims: %w", err)
	}
	for k, x := range m {
		c[k] = x
	}
	return nil
}
