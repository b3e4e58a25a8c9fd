package client

import (
	"context"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// Ping describes the cluster (no client cert needed).
func (c *Client) Ping(ctx context.Context) (wire.Ping, error) {
	return call(ctx, c, wire.GetPing, wire.None{})
}

// TrustedCAs fetches the PEM certs a CA trusts (no client cert needed).
func (c *Client) TrustedCAs(ctx context.Context, caType string) ([]string, error) {
	p, err := call(ctx, c, wire.GetCAs, caType)
	return p.PEM, err
}

// Login exchanges a password for a user cert.
func (c *Client) Login(ctx context.Context, req wire.Login) (wire.Cert, error) {
	return call(ctx, c, wire.PostLogin, req)
}

// Signup consumes an invite, sets the password and returns a user cert.
func (c *Client) Signup(ctx context.Context, req wire.Login) (wire.Cert, error) {
	return call(ctx, c, wire.PostSignup, req)
}

// Join joins an agent with a token.
func (c *Client) Join(ctx context.Context, req wire.Join) (wire.Joined, error) {
	return call(ctx, c, wire.PostJoin, req)
}

// Status describes the cluster and its CAs.
func (c *Client) Status(ctx context.Context) (wire.Status, error) {
	return call(ctx, c, wire.GetStatus, wire.None{})
}

// Whoami describes the caller.
func (c *Client) Whoami(ctx context.Context) (wire.Whoami, error) {
	return call(ctx, c, wire.GetWhoami, wire.None{})
}

// TokensAdd creates a join token; the answer holds its value once.
func (c *Client) TokensAdd(ctx context.Context, req wire.TokenAdd) (wire.Token, error) {
	return call(ctx, c, wire.PostTokens, req)
}

// TokensList lists tokens (hashes only).
func (c *Client) TokensList(ctx context.Context) ([]wire.Token, error) {
	return call(ctx, c, wire.GetTokens, wire.None{})
}

// TokensRm deletes a token by value, hash or hash prefix.
func (c *Client) TokensRm(ctx context.Context, ref string) error {
	return done(call(ctx, c, wire.DeleteToken, ref))
}

// UsersAdd creates a user; the answer holds the signup invite.
func (c *Client) UsersAdd(ctx context.Context, u schemas.User) (wire.Invite, error) {
	return call(ctx, c, wire.PostUsers, u)
}

// UsersList lists users.
func (c *Client) UsersList(ctx context.Context) ([]wire.User, error) {
	return call(ctx, c, wire.GetUsers, wire.None{})
}

// UsersGet returns a user.
func (c *Client) UsersGet(ctx context.Context, name string) (wire.User, error) {
	return call(ctx, c, wire.GetUser, name)
}

// UsersUpdate replaces a user's roles and/or traits (nil keeps them).
func (c *Client) UsersUpdate(ctx context.Context, u schemas.User) (wire.User, error) {
	return call(ctx, c, wire.PutUser, wire.Named[schemas.User]{Name: u.Name, Body: u})
}

// UsersRm deletes a user.
func (c *Client) UsersRm(ctx context.Context, name string) error {
	return done(call(ctx, c, wire.DeleteUser, name))
}

// UsersReset issues a new invite.
func (c *Client) UsersReset(ctx context.Context, name string) (wire.Invite, error) {
	return call(ctx, c, wire.PostUserReset, name)
}

// RolesCreate creates a role.
func (c *Client) RolesCreate(ctx context.Context, r schemas.Role) (wire.Role, error) {
	return call(ctx, c, wire.PostRoles, r)
}

// RolesUpdate replaces a role.
func (c *Client) RolesUpdate(ctx context.Context, r schemas.Role) (wire.Role, error) {
	return call(ctx, c, wire.PutRole, wire.Named[schemas.Role]{Name: r.Name, Body: r})
}

// RolesList lists roles.
func (c *Client) RolesList(ctx context.Context) ([]wire.Role, error) {
	return call(ctx, c, wire.GetRoles, wire.None{})
}

// RolesGet returns a role.
func (c *Client) RolesGet(ctx context.Context, name string) (wire.Role, error) {
	return call(ctx, c, wire.GetRole, name)
}

// RolesRm deletes a role.
func (c *Client) RolesRm(ctx context.Context, name string) error {
	return done(call(ctx, c, wire.DeleteRole, name))
}

// RequestsCreate asks for roles through an access request.
func (c *Client) RequestsCreate(ctx context.Context, r wire.AccessRequestCreate) (wire.AccessRequest, error) {
	return call(ctx, c, wire.PostAccessRequests, r)
}

// RequestsList lists the access requests the caller may see, in state
// when set.
func (c *Client) RequestsList(ctx context.Context, state string) ([]wire.AccessRequest, error) {
	return call(ctx, c, wire.GetAccessRequests, wire.AccessRequestsQuery{State: state})
}

// RequestsGet returns one access request.
func (c *Client) RequestsGet(ctx context.Context, id string) (wire.AccessRequest, error) {
	return call(ctx, c, wire.GetAccessRequest, id)
}

// RequestsReview approves or denies an access request.
func (c *Client) RequestsReview(ctx context.Context, id string, v wire.ReviewVerdict) (wire.AccessRequest, error) {
	return call(ctx, c, wire.PostAccessRequestReview, wire.AccessRequestReview{ID: id, Body: v})
}

// RequestsDrop withdraws an access request.
func (c *Client) RequestsDrop(ctx context.Context, id string) error {
	return done(call(ctx, c, wire.DeleteAccessRequest, id))
}

// SSOBegin starts a single sign-on login: the URL to open in a browser.
func (c *Client) SSOBegin(ctx context.Context, req wire.SSOBegin) (wire.SSOAuth, error) {
	return call(ctx, c, wire.PostSSOBegin, req)
}

// SSOFinish finishes a single sign-on login with the browser's code (or a
// pending login with its one-time code).
func (c *Client) SSOFinish(ctx context.Context, req wire.SSOFinish) (wire.SSOLogin, error) {
	return call(ctx, c, wire.PostSSOFinish, req)
}

// SSOCreate creates a single sign-on connector.
func (c *Client) SSOCreate(ctx context.Context, conn wire.SSOConnector) (wire.SSOConnectorView, error) {
	return call(ctx, c, wire.PostSSOConnectors, conn)
}

// SSOUpdate replaces a single sign-on connector.
func (c *Client) SSOUpdate(ctx context.Context, conn wire.SSOConnector) (wire.SSOConnectorView, error) {
	return call(ctx, c, wire.PutSSOConnector, wire.Named[wire.SSOConnector]{Name: conn.Name, Body: conn})
}

// SSOList lists the single sign-on connectors.
func (c *Client) SSOList(ctx context.Context) ([]wire.SSOConnectorView, error) {
	return call(ctx, c, wire.GetSSOConnectors, wire.None{})
}

// SSOGet returns one single sign-on connector.
func (c *Client) SSOGet(ctx context.Context, name string) (wire.SSOConnectorView, error) {
	return call(ctx, c, wire.GetSSOConnector, name)
}

// SSORm deletes a single sign-on connector.
func (c *Client) SSORm(ctx context.Context, name string) error {
	return done(call(ctx, c, wire.DeleteSSOConnector, name))
}

// MFABeginTOTP starts the caller's TOTP enrollment.
func (c *Client) MFABeginTOTP(ctx context.Context) (wire.TOTPEnrollment, error) {
	return call(ctx, c, wire.PostMFATOTP, wire.None{})
}

// MFAConfirmTOTP enrolls the pending TOTP secret with its first code.
func (c *Client) MFAConfirmTOTP(ctx context.Context, code string) error {
	return done(call(ctx, c, wire.PostMFATOTPConfirm, wire.MFACode{Code: code}))
}

// MFARemove removes a second factor (the caller's with a code, or user's).
func (c *Client) MFARemove(ctx context.Context, r wire.MFARemove) error {
	return done(call(ctx, c, wire.PostMFARemove, r))
}

// LocksAdd creates a lock.
func (c *Client) LocksAdd(ctx context.Context, l wire.Lock) (wire.Lock, error) {
	return call(ctx, c, wire.PostLocks, l)
}

// LocksList lists active locks.
func (c *Client) LocksList(ctx context.Context) ([]wire.Lock, error) {
	return call(ctx, c, wire.GetLocks, wire.None{})
}

// LocksRm deletes a lock.
func (c *Client) LocksRm(ctx context.Context, id string) error {
	return done(call(ctx, c, wire.DeleteLock, id))
}

// Export returns every trusted cert of a CA (user, host, db, db-client).
func (c *Client) Export(ctx context.Context, caType string) ([]string, error) {
	p, err := call(ctx, c, wire.GetCAExport, caType)
	return p.PEM, err
}

// Sign makes database server certs.
func (c *Client) Sign(ctx context.Context, req wire.SignRequest) (wire.Signed, error) {
	return call(ctx, c, wire.PostSign, req)
}

// DBList lists the databases the caller may reach; with all, every
// database (needs a rule allowing list on database).
func (c *Client) DBList(ctx context.Context, all bool) ([]wire.Database, error) {
	return call(ctx, c, wire.GetDatabases, wire.DatabasesQuery{All: all})
}

// DBListRequestable lists the databases the caller may reach and, with
// RequestRoles set, those only a role it may request reaches.
func (c *Client) DBListRequestable(ctx context.Context) ([]wire.Database, error) {
	return call(ctx, c, wire.GetDatabases, wire.DatabasesQuery{Requestable: true})
}

// DBCreate registers a dynamic database.
func (c *Client) DBCreate(ctx context.Context, d schemas.Database) (wire.Database, error) {
	return call(ctx, c, wire.PostDatabases, d)
}

// DBRegister registers an agent's static database (host cert).
func (c *Client) DBRegister(ctx context.Context, d schemas.Database) (wire.Database, error) {
	return call(ctx, c, wire.PostDatabaseRegister, d)
}

// DBRm deregisters a database.
func (c *Client) DBRm(ctx context.Context, name string) error {
	return done(call(ctx, c, wire.DeleteDatabase, name))
}

// DBCert issues a user cert with a database route.
func (c *Client) DBCert(ctx context.Context, req wire.DBCertRequest) (wire.Cert, error) {
	return call(ctx, c, wire.PostDBCert, req)
}

// DBClientCert issues an agent a db_client cert.
func (c *Client) DBClientCert(ctx context.Context, req wire.DBClientCertRequest) (wire.Cert, error) {
	return call(ctx, c, wire.PostDBClientCert, req)
}

// Events reads a page of events.
func (c *Client) Events(ctx context.Context, q wire.EventsQuery) (wire.Events, error) {
	return call(ctx, c, wire.GetEvents, q)
}
