package embedded

import (
	"crypto/rand"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/rs/zerolog"
)

// ErrRefused is wrapped by an Authorize function that refuses a client.
var ErrRefused = errors.New("NATS client refused")

// Client is what one network client may do: the subjects it may publish to
// and subscribe to (NATS wildcards allowed; anything else is denied).
type Client struct {
	// Name identifies the client in the server's logs and events.
	Name      string
	Publish   []string
	Subscribe []string
}

// AuthorizeFunc maps a network client's verified certificate (the leaf of
// its first verified chain) to what it may do, or refuses it with an
// error.
type AuthorizeFunc func(leaf *x509.Certificate) (Client, error)

// authenticator is the server's custom client authentication: the
// process's own in-process connections present a random token known only
// to this process and get full access; network clients (always TLS with a
// verified client cert) get what Authorize says.
type authenticator struct {
	token     []byte
	authorize AuthorizeFunc
	leaf      AuthorizeFunc
	log       zerolog.Logger
}

func newAuthenticator(authorize, leaf AuthorizeFunc, log zerolog.Logger) (*authenticator, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("generate in-process token: %w", err)
	}
	if authorize == nil {
		authorize = allowAll
	}
	return &authenticator{token: []byte(hex.EncodeToString(b[:])), authorize: authorize, leaf: leaf, log: log}, nil
}

// allowAll is Authorize when only leaf nodes are authorized: every client
// with a verified cert may do everything (as without Authorize).
func allowAll(*x509.Certificate) (Client, error) {
	return Client{Publish: []string{">"}, Subscribe: []string{">"}}, nil
}

// Check implements server.Authentication.
func (a *authenticator) Check(c server.ClientAuthentication) bool {
	authorize := a.authorize
	switch c.Kind() {
	case server.CLIENT:
	case server.LEAF:
		if a.leaf == nil {
			return false
		}
		authorize = a.leaf
	default:
		return false
	}
	cs := c.GetTLSConnectionState()
	if cs == nil && c.Kind() == server.LEAF {
		a.log.Warn().Str("remote", addr(c)).Msg("NATS leaf node without TLS refused")
		return false
	}
	if cs == nil {
		opts := c.GetOpts()
		if opts == nil || subtle.ConstantTimeCompare([]byte(opts.Token), a.token) != 1 {
			a.log.Warn().Str("remote", addr(c)).Msg("NATS client without TLS refused")
			return false
		}
		c.RegisterUser(&server.User{Username: "tollgate"})
		return true
	}
	if len(cs.VerifiedChains) == 0 || len(cs.VerifiedChains[0]) == 0 {
		a.log.Warn().Str("remote", addr(c)).Msg("NATS client without a verified certificate refused")
		return false
	}
	leaf := cs.VerifiedChains[0][0]
	cl, err := authorize(leaf)
	if err != nil {
		a.log.Warn().Str("remote", addr(c)).Str("subject", leaf.Subject.CommonName).Err(err).Msg("NATS client refused")
		return false
	}
	if cl.Name == "" {
		cl.Name = leaf.Subject.CommonName
	}
	c.RegisterUser(&server.User{Username: cl.Name, Permissions: &server.Permissions{
		Publish:   &server.SubjectPermission{Allow: nonNil(cl.Publish)},
		Subscribe: &server.SubjectPermission{Allow: nonNil(cl.Subscribe)},
	}})
	a.log.Info().Str("remote", addr(c)).Str("client", cl.Name).Msg("NATS client authorized")
	return true
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func addr(c server.ClientAuthentication) string {
	if a := c.RemoteAddress(); a != nil {
		return a.String()
	}
	return ""
}

var _ server.Authentication = (*authenticator)(nil)
