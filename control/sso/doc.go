// Package sso is single sign-on with OpenID Connect, control's side: the
// provider's discovery, the authorization URL (PKCE S256, a nonce, a
// state), the code exchange with the ID token verified (signature,
// issuer, audience, expiry, nonce) and the userinfo merged, and the
// mapping of the claims to a Tollgate user: its name, roles
// (claims_to_roles) and traits (templates such as {{email.local}}).
//
// The flow is stateless on control's side: what a login needs between
// its start and its finish (the PKCE verifier, the nonce, the loopback
// redirect) travels sealed (AES-256-GCM, a key every control shares) in
// the OAuth state, so any control of the cluster can finish a login
// another began.
package sso
