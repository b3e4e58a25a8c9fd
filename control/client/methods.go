package client

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// Ping describes the cluster (no client cert needed).
func (c *Client) Ping(ctx context.Context) (wire.Ping, error) {
	var out wire.Ping
	return out, c.do(ctx, "GET", "/v1/ping", nil, &out)
}

// TrustedCAs fetches the PEM certs a CA trusts (no client cert needed).
func (c *Client) TrustedCAs(ctx context.Context, caType string) ([]string, error) {
	var out struct{ PEM []string }
	return out.PEM, c.do(ctx, "GET", "/v1/cas/"+esc(caType), nil, &out)
}

// Login exchanges a password for a user cert.
func (c *Client) Login(ctx context.Context, req wire.Login) (wire.Cert, error) {
	var out wire.Cert
	return out, c.do(ctx, "POST", "/v1/login", req, &out)
}

// Signup consumes an invite, sets the password and returns a user cert.
func (c *Client) Signup(ctx context.Context, req wire.Login) (wire.Cert, error) {
	var out wire.Cert
	return out, c.do(ctx, "POST", "/v1/signup", req, &out)
}

// Join joins an agent with a token.
func (c *Client) Join(ctx context.Context, req wire.Join) (wire.Joined, error) {
	var out wire.Joined
	return out, c.do(ctx, "POST", "/v1/join", req, &out)
}

// Status describes the cluster and its CAs.
func (c *Client) Status(ctx context.Context) (wire.Status, error) {
	var out wire.Status
	return out, c.do(ctx, "GET", "/v1/status", nil, &out)
}

// Whoami describes the caller.
func (c *Client) Whoami(ctx context.Context) (wire.Whoami, error) {
	var out wire.Whoami
	return out, c.do(ctx, "GET", "/v1/whoami", nil, &out)
}

// TokensAdd creates a join token; the answer holds its value once.
func (c *Client) TokensAdd(ctx context.Context, req wire.TokenAdd) (wire.Token, error) {
	var out wire.Token
	return out, c.do(ctx, "POST", "/v1/tokens", req, &out)
}

// TokensList lists tokens (hashes only).
func (c *Client) TokensList(ctx context.Context) ([]wire.Token, error) {
	var out []wire.Token
	return out, c.do(ctx, "GET", "/v1/tokens", nil, &out)
}

// TokensRm deletes a token by value, hash or hash prefix.
func (c *Client) TokensRm(ctx context.Context, ref string) error {
	return c.do(ctx, "DELETE", "/v1/tokens/"+esc(ref), nil, nil)
}

// UsersAdd creates a user; the answer holds the signup invite.
func (c *Client) UsersAdd(ctx context.Context, u schemas.User) (wire.Invite, error) {
	var out wire.Invite
	return out, c.do(ctx, "POST", "/v1/users", u, &out)
}

// UsersList lists users.
func (c *Client) UsersList(ctx context.Context) ([]wire.User, error) {
	var out []wire.User
	return out, c.do(ctx, "GET", "/v1/users", nil, &out)
}

// UsersGet returns a user.
func (c *Client) UsersGet(ctx context.Context, name string) (wire.User, error) {
	var out wire.User
	return out, c.do(ctx, "GET", "/v1/users/"+esc(name), nil, &out)
}

// UsersUpdate replaces a user's roles and/or traits (nil keeps them).
func (c *Client) UsersUpdate(ctx context.Context, u schemas.User) (wire.User, error) {
	var out wire.User
	return out, c.do(ctx, "PUT", "/v1/users/"+esc(u.Name), u, &out)
}

// UsersRm deletes a user.
func (c *Client) UsersRm(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/v1/users/"+esc(name), nil, nil)
}

// UsersReset issues a new invite.
func (c *Client) UsersReset(ctx context.Context, name string) (wire.Invite, error) {
	var out wire.Invite
	return out, c.do(ctx, "POST", "/v1/users/"+esc(name)+"/reset", nil, &out)
}

// RolesCreate creates a role.
func (c *Client) RolesCreate(ctx context.Context, r schemas.Role) (wire.Role, error) {
	var out wire.Role
	return out, c.do(ctx, "POST", "/v1/roles", r, &out)
}

// RolesUpdate replaces a role.
func (c *Client) RolesUpdate(ctx context.Context, r schemas.Role) (wire.Role, error) {
	var out wire.Role
	return out, c.do(ctx, "PUT", "/v1/roles/"+esc(r.Name), r, &out)
}

// RolesList lists roles.
func (c *Client) RolesList(ctx context.Context) ([]wire.Role, error) {
	var out []wire.Role
	return out, c.do(ctx, "GET", "/v1/roles", nil, &out)
}

// RolesGet returns a role.
func (c *Client) RolesGet(ctx context.Context, name string) (wire.Role, error) {
	var out wire.Role
	return out, c.do(ctx, "GET", "/v1/roles/"+esc(name), nil, &out)
}

// RolesRm deletes a role.
func (c *Client) RolesRm(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/v1/roles/"+esc(name), nil, nil)
}

// LocksAdd creates a lock.
func (c *Client) LocksAdd(ctx context.Context, l wire.Lock) (wire.Lock, error) {
	var out wire.Lock
	return out, c.do(ctx, "POST", "/v1/locks", l, &out)
}

// LocksList lists active locks.
func (c *Client) LocksList(ctx context.Context) ([]wire.Lock, error) {
	var out []wire.Lock
	return out, c.do(ctx, "GET", "/v1/locks", nil, &out)
}

// LocksRm deletes a lock.
func (c *Client) LocksRm(ctx context.Context, id string) error {
	return c.do(ctx, "DELETE", "/v1/locks/"+esc(id), nil, nil)
}

// Export returns every trusted cert of a CA (user, host, db, db-client).
func (c *Client) Export(ctx context.Context, caType string) ([]string, error) {
	var out struct{ PEM []string }
	return out.PEM, c.do(ctx, "GET", "/v1/auth/export/"+esc(caType), nil, &out)
}

// Sign makes database server certs.
func (c *Client) Sign(ctx context.Context, req wire.SignRequest) (wire.Signed, error) {
	var out wire.Signed
	return out, c.do(ctx, "POST", "/v1/auth/sign", req, &out)
}

// DBList lists the databases the caller may reach; with all, every
// database (needs a rule allowing list on database).
func (c *Client) DBList(ctx context.Context, all bool) ([]wire.Database, error) {
	var out []wire.Database
	path := "/v1/databases"
	if all {
		path += "?all=true"
	}
	return out, c.do(ctx, "GET", path, nil, &out)
}

// DBCreate registers a dynamic database.
func (c *Client) DBCreate(ctx context.Context, d schemas.Database) (wire.Database, error) {
	var out wire.Database
	return out, c.do(ctx, "POST", "/v1/databases", d, &out)
}

// DBRegister registers an agent's static database (host cert).
func (c *Client) DBRegister(ctx context.Context, d schemas.Database) (wire.Database, error) {
	var out wire.Database
	return out, c.do(ctx, "POST", "/v1/databases/register", d, &out)
}

// DBRm deregisters a database.
func (c *Client) DBRm(ctx context.Context, name string) error {
	return c.do(ctx, "DELETE", "/v1/databases/"+esc(name), nil, nil)
}

// DBCert issues a user cert with a database route.
func (c *Client) DBCert(ctx context.Context, req wire.DBCertRequest) (wire.Cert, error) {
	var out wire.Cert
	return out, c.do(ctx, "POST", "/v1/certs/db", req, &out)
}

// DBClientCert issues an agent a db_client cert.
func (c *Client) DBClientCert(ctx context.Context, req wire.DBClientCertRequest) (wire.Cert, error) {
	var out wire.Cert
	return out, c.do(ctx, "POST", "/v1/certs/db-client", req, &out)
}

// Events reads a page of events.
func (c *Client) Events(ctx context.Context, q wire.EventsQuery) (wire.Events, error) {
	v := url.Values{}
	if q.Stream != "" {
		v.Set("stream", q.Stream)
	}
	if q.Type != "" {
		v.Set("type", q.Type)
	}
	if !q.Since.IsZero() {
		v.Set("since", q.Since.UTC().Format(time.RFC3339Nano))
	}
	if q.FromSeq > 0 {
		v.Set("from_seq", strconv.FormatUint(q.FromSeq, 10))
	}
	if q.Limit > 0 {
		v.Set("limit", strconv.Itoa(q.Limit))
	}
	var out wire.Events
	return out, c.do(ctx, "GET", "/v1/events?"+v.Encode(), nil, &out)
}
