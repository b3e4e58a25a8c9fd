package gateway

import (
	"context"
	"errors"
	"net"
	"os"

	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/control/wire"
)

// JoinRequest is the join of an agent with these options, before its
// listener is bound: token, hostname, the address clients dial
// (AdvertiseAddr) and the resource selectors. Proxy and CAPin are the
// caller's (a remote join).
func (o Options) JoinRequest(token string) join.Request {
	var res []map[string][]string
	for _, s := range o.Resources {
		res = append(res, map[string][]string(s))
	}
	return join.Request{Token: token, Hostname: o.hostname(), PublicAddr: o.AdvertiseAddr(nil), Resources: res}
}

// AdvertiseAddr is the address clients dial to reach this agent:
// PublicAddr when set, else the listen address (bound, when the listener
// is up, so that port 0 resolves) with an unspecified host (0.0.0.0, ::,
// empty) replaced by the hostname — "0.0.0.0:7432" is no address a client
// can dial.
func (o Options) AdvertiseAddr(bound net.Addr) string {
	if o.PublicAddr != "" {
		return o.PublicAddr
	}
	if o.ListenAddr == NoListener && bound == nil {
		return wire.TunnelAddr // reached through its tunnel only
	}
	addr := o.ListenAddr
	if addr == "" {
		addr = DefaultListenAddr
	}
	if bound != nil {
		addr = bound.String()
	}
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = o.hostname()
		if host == "" {
			host = "localhost"
		}
	}
	return net.JoinHostPort(host, port)
}

// token is the join token, "" when there is none.
func (o Options) token() (string, error) {
	if o.JoinToken == nil {
		return "", nil
	}
	return o.JoinToken()
}

// loadIdentity loads the agent's identity from its data dir, or joins the
// cluster when there is none (first start). The token is asked for at the
// first start only: once joined, the file holding it may be gone.
func (g *Gateway) loadIdentity(ctx context.Context) (*join.Identity, error) {
	dir := g.opt.DataDir
	id, err := join.Load(dir)
	if !errors.Is(err, os.ErrNotExist) && dir != "" {
		return id, err
	}
	token, err := g.opt.token()
	if err != nil {
		return nil, err
	}
	return join.Ensure(ctx, dir, g.deps.Control, g.opt.JoinRequest(token))
}
