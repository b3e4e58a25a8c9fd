package api

import (
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

func (s *Server) routes() {
	m, svc := s.mux, s.svc
	// Unauthenticated.
	m.HandleFunc("GET /v1/ping", s.open(func(w http.ResponseWriter, r *http.Request) (any, error) { return svc.Cluster().Ping(), nil }))
	m.HandleFunc("GET /v1/cas/{type}", s.open(func(w http.ResponseWriter, r *http.Request) (any, error) {
		pems, err := svc.CAs().Trusted(r.PathValue("type"))
		return map[string][]string{"pem": pems}, err
	}))
	m.HandleFunc("POST /v1/login", s.open(func(w http.ResponseWriter, r *http.Request) (any, error) {
		var req wire.Login
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return svc.Auth().Login(r.Context(), req, r.RemoteAddr)
	}))
	m.HandleFunc("POST /v1/signup", s.open(func(w http.ResponseWriter, r *http.Request) (any, error) {
		var req wire.Login
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return svc.Auth().Signup(r.Context(), req, r.RemoteAddr)
	}))
	m.HandleFunc("POST /v1/join", s.open(func(w http.ResponseWriter, r *http.Request) (any, error) {
		var req wire.Join
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		req.ControlHost = r.Host
		if h, _, err := net.SplitHostPort(r.Host); err == nil {
			req.ControlHost = h
		}
		return svc.Agents().Join(r.Context(), req, r.RemoteAddr)
	}))

	// Authenticated.
	m.HandleFunc("GET /v1/status", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return svc.Cluster().Status(c)
	}))
	m.HandleFunc("GET /v1/whoami", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return svc.Cluster().Whoami(c)
	}))

	m.HandleFunc("POST /v1/tokens", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var req wire.TokenAdd
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return svc.Tokens().Add(r.Context(), c, req)
	}))
	m.HandleFunc("GET /v1/tokens", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return nonNil(svc.Tokens().List(c))
	}))
	m.HandleFunc("DELETE /v1/tokens/{ref}", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return nil, svc.Tokens().Rm(r.Context(), c, r.PathValue("ref"))
	}))

	m.HandleFunc("POST /v1/users", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var u schemas.User
		if err := decode(r, &u); err != nil {
			return nil, err
		}
		return svc.Users().Add(r.Context(), c, u)
	}))
	m.HandleFunc("GET /v1/users", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return nonNil(svc.Users().List(c))
	}))
	m.HandleFunc("GET /v1/users/{name}", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return svc.Users().Get(c, r.PathValue("name"))
	}))
	m.HandleFunc("PUT /v1/users/{name}", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var u schemas.User
		if err := decode(r, &u); err != nil {
			return nil, err
		}
		u.Name = r.PathValue("name")
		return svc.Users().Update(r.Context(), c, u)
	}))
	m.HandleFunc("DELETE /v1/users/{name}", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return nil, svc.Users().Rm(r.Context(), c, r.PathValue("name"))
	}))
	m.HandleFunc("POST /v1/users/{name}/reset", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return svc.Users().Reset(r.Context(), c, r.PathValue("name"))
	}))

	m.HandleFunc("POST /v1/roles", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var role schemas.Role
		if err := decode(r, &role); err != nil {
			return nil, err
		}
		return svc.Roles().Create(r.Context(), c, role)
	}))
	m.HandleFunc("GET /v1/roles", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return nonNil(svc.Roles().List(c))
	}))
	m.HandleFunc("GET /v1/roles/{name}", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return svc.Roles().Get(c, r.PathValue("name"))
	}))
	m.HandleFunc("PUT /v1/roles/{name}", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var role schemas.Role
		if err := decode(r, &role); err != nil {
			return nil, err
		}
		if role.Name != r.PathValue("name") {
			return nil, &control.Error{Code: control.CodeInvalid, Message: "role name in the body differs from the URL"}
		}
		return svc.Roles().Update(r.Context(), c, role)
	}))
	m.HandleFunc("DELETE /v1/roles/{name}", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return nil, svc.Roles().Rm(r.Context(), c, r.PathValue("name"))
	}))

	m.HandleFunc("POST /v1/locks", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var l wire.Lock
		if err := decode(r, &l); err != nil {
			return nil, err
		}
		return svc.Locks().Add(r.Context(), c, l)
	}))
	m.HandleFunc("GET /v1/locks", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return nonNil(svc.Locks().List(c))
	}))
	m.HandleFunc("DELETE /v1/locks/{id}", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return nil, svc.Locks().Rm(r.Context(), c, r.PathValue("id"))
	}))

	m.HandleFunc("GET /v1/auth/export/{type}", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		pems, err := svc.CAs().Export(c, r.PathValue("type"))
		return map[string][]string{"pem": pems}, err
	}))
	m.HandleFunc("POST /v1/auth/sign", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var req wire.SignRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return svc.Certs().Sign(r.Context(), c, req)
	}))

	m.HandleFunc("GET /v1/databases", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return nonNil(svc.Databases().List(c, r.URL.Query().Get("all") == "true"))
	}))
	m.HandleFunc("POST /v1/databases", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var d schemas.Database
		if err := decode(r, &d); err != nil {
			return nil, err
		}
		return svc.Databases().Create(r.Context(), c, d)
	}))
	m.HandleFunc("POST /v1/databases/register", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var d schemas.Database
		if err := decode(r, &d); err != nil {
			return nil, err
		}
		return svc.Databases().Register(r.Context(), c, d)
	}))
	m.HandleFunc("DELETE /v1/databases/{name}", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		return nil, svc.Databases().Rm(r.Context(), c, r.PathValue("name"))
	}))

	m.HandleFunc("POST /v1/certs/db", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var req wire.DBCertRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return svc.Certs().DB(r.Context(), c, req)
	}))
	m.HandleFunc("POST /v1/certs/db-client", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		var req wire.DBClientCertRequest
		if err := decode(r, &req); err != nil {
			return nil, err
		}
		return svc.Certs().DBClient(r.Context(), c, req)
	}))

	m.HandleFunc("GET /v1/events", s.auth(func(w http.ResponseWriter, r *http.Request, c control.Caller) (any, error) {
		q, err := eventsQuery(r)
		if err != nil {
			return nil, err
		}
		return svc.Audit().Events(r.Context(), c, q)
	}))
	m.HandleFunc("/", s.open(func(w http.ResponseWriter, r *http.Request) (any, error) {
		return nil, &control.Error{Code: control.CodeNotFound, Message: "no API endpoint " + r.Method + " " + r.URL.Path}
	}))
}

func nonNil[T any](xs []T, err error) ([]T, error) {
	if xs == nil {
		xs = []T{}
	}
	return xs, err
}

func eventsQuery(r *http.Request) (wire.EventsQuery, error) {
	v := r.URL.Query()
	q := wire.EventsQuery{Stream: v.Get("stream"), Type: v.Get("type")}
	bad := func(name, val string) error {
		return &control.Error{Code: control.CodeInvalid, Message: "query parameter " + name + "=" + val + " is not valid"}
	}
	if s := v.Get("since"); s != "" {
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return q, bad("since", s)
		}
		q.Since = t
	}
	if s := v.Get("from_seq"); s != "" {
		n, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			return q, bad("from_seq", s)
		}
		q.FromSeq = n
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, bad("limit", s)
		}
		q.Limit = n
	}
	return q, nil
}
