package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/wire"
)

// handler is a call's service method as the API runs it: the request
// decoded, c the caller (zero for an open call).
type handler[Req, Resp any] func(r *http.Request, c control.Caller, req Req) (Resp, error)

// mount serves call with h: the request is decoded from the path, the
// query and the JSON body by wire's rules, after the caller is identified;
// a call answering wire.None is answered 204.
func mount[Req, Resp any](s *Server, call wire.Call[Req, Resp], h handler[Req, Resp]) {
	s.mux.HandleFunc(call.String(), s.serve(call.Open, func(r *http.Request, c control.Caller) (any, error) {
		req, err := call.Decode(r.PathValue, r.URL.Query(), func(v any) error { return decode(r, v) })
		var qe *wire.QueryError
		if errors.As(err, &qe) {
			return nil, &control.Error{Code: control.CodeInvalid, Message: qe.Error(), Err: err}
		}
		if err != nil {
			return nil, err
		}
		out, err := h(r, c, req)
		if err != nil || call.NoContent() {
			return nil, err
		}
		return out, nil
	}))
}

// cmd binds a service method that blocks (a command, or a read of a
// stream): it runs with the request's context.
func cmd[Req, Resp any](f func(context.Context, control.Caller, Req) (Resp, error)) handler[Req, Resp] {
	return func(r *http.Request, c control.Caller, req Req) (Resp, error) { return f(r.Context(), c, req) }
}

// rm binds a deletion, answered 204.
func rm[Req any](f func(context.Context, control.Caller, Req) error) handler[Req, wire.None] {
	return func(r *http.Request, c control.Caller, req Req) (wire.None, error) {
		return wire.None{}, f(r.Context(), c, req)
	}
}

// read binds a read of the projection (it does not block).
func read[Req, Resp any](f func(control.Caller, Req) (Resp, error)) handler[Req, Resp] {
	return func(_ *http.Request, c control.Caller, req Req) (Resp, error) { return f(c, req) }
}

// about binds a read of the projection that takes no request.
func about[Resp any](f func(control.Caller) (Resp, error)) handler[wire.None, Resp] {
	return func(_ *http.Request, c control.Caller, _ wire.None) (Resp, error) { return f(c) }
}

// list binds a list; an empty one is answered [], not null.
func list[T any](f func(control.Caller) ([]T, error)) handler[wire.None, []T] {
	return func(_ *http.Request, c control.Caller, _ wire.None) ([]T, error) { return nonNil(f(c)) }
}

// remote binds an open call that logs the client's address.
func remote[Req, Resp any](f func(context.Context, Req, string) (Resp, error)) handler[Req, Resp] {
	return func(r *http.Request, _ control.Caller, req Req) (Resp, error) {
		return f(r.Context(), req, r.RemoteAddr)
	}
}

func nonNil[T any](xs []T, err error) ([]T, error) {
	if xs == nil {
		xs = []T{}
	}
	return xs, err
}

// pems answers the PEM certs of a CA.
func pems(certs []string, err error) (wire.PEMs, error) { return wire.PEMs{PEM: certs}, err }
