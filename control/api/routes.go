package api

import (
	"context"
	"net"
	"net/http"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/web"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// routes mounts every call of wire's table, concept by concept, and
// answers anything else 404 saying no such endpoint exists.
func (s *Server) routes() {
	s.openRoutes()
	s.clusterRoutes()
	s.userRoutes()
	s.roleRoutes()
	s.certRoutes()
	s.databaseRoutes()
	s.auditRoutes()
	s.exportRoutes()
	s.rotationRoutes()
	s.agentRoutes()
	s.requestRoutes()
	s.ssoRoutes()
	console := web.New(s.svc, s.log, func(ctx context.Context) wire.ExportStatus {
		if f := s.exportStatus.Load(); f != nil {
			return (*f)(ctx)
		}
		return wire.ExportStatus{}
	}).Handler()
	s.mux.Handle(web.Prefix+"/", console)
	s.mux.Handle(web.Prefix, console)
	s.mux.HandleFunc("/", s.serve(true, func(r *http.Request, _ control.Caller) (any, error) {
		return nil, &control.Error{Code: control.CodeNotFound, Message: "no API endpoint " + r.Method + " " + r.URL.Path}
	}))
}

// openRoutes need no client cert: a new client pins the cluster and
// fetches CA certs, a user logs in or signs up, an agent joins.
func (s *Server) openRoutes() {
	cluster, cas, auth, agents := s.svc.Cluster(), s.svc.CAs(), s.svc.Auth(), s.svc.Agents()
	mount(s, wire.GetPing, func(*http.Request, control.Caller, wire.None) (wire.Ping, error) { return cluster.Ping(), nil })
	mount(s, wire.GetCAs, func(_ *http.Request, _ control.Caller, t string) (wire.PEMs, error) { return pems(cas.Trusted(t)) })
	mount(s, wire.PostLogin, remote(auth.Login))
	mount(s, wire.PostSignup, remote(auth.Signup))
	ssoSvc := s.svc.SSO()
	mount(s, wire.PostSSOBegin, func(r *http.Request, _ control.Caller, req wire.SSOBegin) (wire.SSOAuth, error) {
		return ssoSvc.Begin(r.Context(), req)
	})
	mount(s, wire.PostSSOFinish, remote(ssoSvc.Finish))
	mount(s, wire.PostJoin, func(r *http.Request, _ control.Caller, req wire.Join) (wire.Joined, error) {
		// The agent reaches control's NATS by the name it dialed.
		req.ControlHost = r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			req.ControlHost = h
		}
		return agents.Join(r.Context(), req, r.RemoteAddr)
	})
}

func (s *Server) clusterRoutes() {
	cluster, tokens, locks := s.svc.Cluster(), s.svc.Tokens(), s.svc.Locks()
	mount(s, wire.GetStatus, about(cluster.Status))
	mount(s, wire.GetWhoami, about(cluster.Whoami))
	mount(s, wire.PostTokens, cmd(tokens.Add))
	mount(s, wire.GetTokens, list(tokens.List))
	mount(s, wire.DeleteToken, rm(tokens.Rm))
	mount(s, wire.PostLocks, cmd(locks.Add))
	mount(s, wire.GetLocks, list(locks.List))
	mount(s, wire.DeleteLock, rm(locks.Rm))
}

func (s *Server) userRoutes() {
	users := s.svc.Users()
	mount(s, wire.PostUsers, cmd(users.Add))
	mount(s, wire.GetUsers, list(users.List))
	mount(s, wire.GetUser, read(users.Get))
	mount(s, wire.PutUser, func(r *http.Request, c control.Caller, req wire.Named[schemas.User]) (wire.User, error) {
		u := req.Body
		u.Name = req.Name
		return users.Update(r.Context(), c, u)
	})
	mount(s, wire.DeleteUser, rm(users.Rm))
	mount(s, wire.PostUserReset, cmd(users.Reset))
}

func (s *Server) roleRoutes() {
	roles := s.svc.Roles()
	mount(s, wire.PostRoles, cmd(roles.Create))
	mount(s, wire.GetRoles, list(roles.List))
	mount(s, wire.GetRole, read(roles.Get))
	mount(s, wire.PutRole, func(r *http.Request, c control.Caller, req wire.Named[schemas.Role]) (wire.Role, error) {
		if req.Body.Name != req.Name {
			return wire.Role{}, &control.Error{Code: control.CodeInvalid, Message: "role name in the body differs from the URL"}
		}
		return roles.Update(r.Context(), c, req.Body)
	})
	mount(s, wire.DeleteRole, rm(roles.Rm))
}

// requestRoutes are access requests: create, see, review, drop.
func (s *Server) requestRoutes() {
	reqs := s.svc.Requests()
	mount(s, wire.PostAccessRequests, cmd(reqs.Create))
	mount(s, wire.GetAccessRequests, read(reqs.List))
	mount(s, wire.GetAccessRequest, read(reqs.Get))
	mount(s, wire.PostAccessRequestReview, func(r *http.Request, c control.Caller, req wire.AccessRequestReview) (wire.AccessRequest, error) {
		return reqs.Review(r.Context(), c, req.ID, req.Body)
	})
	mount(s, wire.DeleteAccessRequest, rm(reqs.Drop))
	mfa := s.svc.MFA()
	mount(s, wire.PostMFATOTP, func(r *http.Request, c control.Caller, _ wire.None) (wire.TOTPEnrollment, error) {
		return mfa.BeginTOTP(r.Context(), c)
	})
	mount(s, wire.PostMFATOTPConfirm, rm(mfa.ConfirmTOTP))
	mount(s, wire.PostMFARemove, rm(mfa.Remove))
}

// ssoRoutes manage single sign-on connectors (logins are open routes).
func (s *Server) ssoRoutes() {
	o := s.svc.SSO()
	mount(s, wire.PostSSOConnectors, cmd(o.Create))
	mount(s, wire.PutSSOConnector, func(r *http.Request, c control.Caller, req wire.Named[wire.SSOConnector]) (wire.SSOConnectorView, error) {
		return o.Update(r.Context(), c, req.Name, req.Body)
	})
	mount(s, wire.GetSSOConnectors, list(o.List))
	mount(s, wire.GetSSOConnector, read(o.Get))
	mount(s, wire.DeleteSSOConnector, rm(o.Rm))
}

// certRoutes issue certs and export what a CA trusts.
func (s *Server) certRoutes() {
	certs, cas := s.svc.Certs(), s.svc.CAs()
	mount(s, wire.GetCAExport, func(_ *http.Request, c control.Caller, t string) (wire.PEMs, error) { return pems(cas.Export(c, t)) })
	mount(s, wire.PostSign, cmd(certs.Sign))
	mount(s, wire.PostDBCert, cmd(certs.DB))
	mount(s, wire.PostDBClientCert, cmd(certs.DBClient))
}

func (s *Server) databaseRoutes() {
	dbs := s.svc.Databases()
	mount(s, wire.GetDatabases, func(_ *http.Request, c control.Caller, q wire.DatabasesQuery) ([]wire.Database, error) {
		return nonNil(dbs.List(c, q))
	})
	mount(s, wire.PostDatabases, cmd(dbs.Create))
	mount(s, wire.PostDatabaseRegister, cmd(dbs.Register))
	mount(s, wire.DeleteDatabase, rm(dbs.Rm))
}
