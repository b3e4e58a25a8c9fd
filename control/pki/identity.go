package pki

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// URI SAN forms carrying a user cert's identity (see the package doc).
const (
	uriScheme = "tollgate"
	uriUser   = "user"
	uriDB     = "db"
	// uriMFA carries the end (unix seconds) of the session a database
	// cert issued after a second factor may open.
	uriMFA = "mfa-session-until"
	// legacyRouteScheme is the route form control wrote before this
	// package: tollgate-route://<path-escaped route>.
	legacyRouteScheme = "tollgate-route"
)

// ErrNoIdentity is wrapped when a cert does not name a user properly.
var ErrNoIdentity = errors.New("certificate carries no valid tollgate identity")

// Identity is who a user cert names and where it routes.
type Identity struct {
	User     string    // the Tollgate user
	Database string    // the route (database name); "" for a plain user cert
	Serial   string    // hex serial
	NotAfter time.Time // the cert's expiry
	// MFASessionUntil, on a database cert issued after a one-time code
	// (require_mfa: session), is how long the session it opens may last
	// (the user cert's expiry), beyond the cert's own minute.
	MFASessionUntil time.Time
}

func identityURI(kind, value string) *url.URL {
	return &url.URL{Scheme: uriScheme, Opaque: kind + ":" + url.PathEscape(value)}
}

// ParseIdentity reads the identity of a user cert. It does not verify the
// cert: do that first (against the user CA, ClientAuth).
func ParseIdentity(cert *x509.Certificate) (Identity, error) {
	id := Identity{Serial: cert.SerialNumber.Text(16), NotAfter: cert.NotAfter}
	var users, dbs []string
	for _, u := range cert.URIs {
		switch u.Scheme {
		case uriScheme:
			kind, raw, ok := strings.Cut(u.Opaque, ":")
			if !ok {
				return Identity{}, fmt.Errorf("%w: malformed URI SAN", ErrNoIdentity)
			}
			v, err := url.PathUnescape(raw)
			if err != nil || v == "" {
				return Identity{}, fmt.Errorf("%w: malformed %s URI SAN", ErrNoIdentity, kind)
			}
			switch kind {
			case uriUser:
				users = append(users, v)
			case uriDB:
				dbs = append(dbs, v)
			case uriMFA:
				sec, err := strconv.ParseInt(v, 10, 64)
				if err != nil || sec <= 0 || !id.MFASessionUntil.IsZero() {
					return Identity{}, fmt.Errorf("%w: malformed mfa URI SAN", ErrNoIdentity)
				}
				id.MFASessionUntil = time.Unix(sec, 0).UTC()
			}
		case legacyRouteScheme:
			v, err := url.PathUnescape(u.Host)
			if err != nil || v == "" {
				return Identity{}, fmt.Errorf("%w: malformed route URI SAN", ErrNoIdentity)
			}
			dbs = append(dbs, v)
		}
	}
	if len(users) > 1 || len(dbs) > 1 {
		return Identity{}, fmt.Errorf("%w: more than one user or route", ErrNoIdentity)
	}
	id.User = cert.Subject.CommonName
	if len(users) == 1 {
		if users[0] != id.User {
			return Identity{}, fmt.Errorf("%w: user URI SAN and common name differ", ErrNoIdentity)
		}
	}
	if id.User == "" {
		return Identity{}, fmt.Errorf("%w: no user name", ErrNoIdentity)
	}
	if len(dbs) == 1 {
		id.Database = dbs[0]
	}
	return id, nil
}
