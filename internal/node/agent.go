package node

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"github.com/tollgate-db/tollgate/internal/inprocess"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/tollgate-db/tollgate/agent/gateway"
	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog/jetstream"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/schemas"
)

// localTokenTTL bounds the join token a node creates for its own agent.
const localTokenTTL = 5 * time.Minute

// AgentOptions tune the agent a node runs (when its config has a
// db_service section).
type AgentOptions struct {
	// ConfigPath is re-read on Reload (SIGHUP): the whole daemon file,
	// whose db_service section replaces what the gateway reloads
	// (gateway.Reloadable). Empty: the running config's ca_cert_files are
	// read again.
	ConfigPath string
	// ReloadOnSIGHUP makes the agent reload on SIGHUP (the daemon sets it;
	// in-process tests do not).
	ReloadOnSIGHUP bool
	// Hostname, MetricsAddr (over db_service.metrics_addr) and Grace are
	// gateway.Options.
	Hostname    string
	MetricsAddr string
	Grace       time.Duration
	// IdentityCheck is gateway.Options.IdentityCheck.
	IdentityCheck time.Duration
}

// remoteJoin is a separate agent process: it joins control over the
// network (join.Remote, first contact checked against tollgate.ca_pin) and
// reaches NATS with what the join answered (URL, host CA, its host cert).
func remoteJoin(ctx context.Context, cfg *config.Config, gopt gateway.Options) (*join.Remote, *join.Identity, error) {
	t := cfg.Agent.Tollgate
	if t.ProxyServer == "" {
		return nil, nil, fmt.Errorf("%w: tollgate.proxy_server: required for an agent joining a remote control", config.ErrInvalid)
	}
	proxy := client.NormalizeProxy(t.ProxyServer)
	id, err := join.Load(cfg.DataDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, nil, err
	}
	var remote *join.Remote
	if id == nil {
		contact, err := client.FirstContact(ctx, proxy, t.CAPin, false)
		if err != nil {
			return nil, nil, fmt.Errorf("first contact with control at %s: %w", t.ProxyServer, err)
		}
		remote = join.NewRemote(proxy, contact.HostCAPEM)
		token, err := gopt.JoinToken()
		if err != nil {
			return nil, nil, err
		}
		// The address clients dial is a SAN of the host cert the join
		// issues: public_addr, else listen_addr (as the gateway registers).
		req := gopt.JoinRequest(token)
		req.Proxy, req.CAPin = proxy, normalizePin(t.CAPin)
		if id, err = join.Ensure(ctx, cfg.DataDir, remote, req); err != nil {
			return nil, nil, err
		}
	} else {
		if err := checkStoredIdentity(ctx, cfg, id, proxy); err != nil {
			return nil, nil, err
		}
		remote = join.NewRemote(proxy, []byte(joinPEM(id.HostCAPEM)))
	}
	if err := remote.SetIdentity(id); err != nil {
		return nil, nil, err
	}
	return remote, id, nil
}

func normalizePin(pin string) string { return strings.ToLower(strings.TrimSpace(pin)) }

// checkStoredIdentity: when the config names another control or another
// host CA than the stored identity joined with (join.Identity.Mismatch),
// it asks control at proxy for its host CAs — verified against
// tollgate.ca_pin, or without a pin against the host CA the agent trusts —
// and goes on only when one of them issued the agent's host cert: the same
// cluster at a new address (or a pin updated after a rotation), which it
// records. Otherwise the identity is of another cluster, and the error
// (join.StaleIdentityError) says what to do; nothing is spent or changed.
func checkStoredIdentity(ctx context.Context, cfg *config.Config, id *join.Identity, proxy string) error {
	t := cfg.Agent.Tollgate
	why := id.Mismatch(proxy, t.CAPin)
	if why == "" {
		return nil
	}
	stale := &join.StaleIdentityError{DataDir: cfg.DataDir, ID: id, Why: why, Control: "control at " + t.ProxyServer}
	var cas []string
	if t.CAPin != "" {
		contact, err := client.FirstContact(ctx, proxy, t.CAPin, false)
		if err != nil {
			return fmt.Errorf("check the agent identity in %s against control at %s (%s): %w", cfg.DataDir, t.ProxyServer, why, err)
		}
		cas = []string{string(contact.HostCAPEM)}
	} else {
		pool, err := client.PoolOf([]byte(joinPEM(id.HostCAPEM)))
		if err != nil {
			return fmt.Errorf("agent identity in %s: %w", cfg.DataDir, err)
		}
		c := client.New(proxy, &tls.Config{RootCAs: pool})
		defer c.Close()
		p, err := c.Ping(ctx)
		var verr *tls.CertificateVerificationError
		if errors.As(err, &verr) {
			return stale
		}
		if err != nil {
			return fmt.Errorf("check the agent identity in %s against control at %s (%s): %w", cfg.DataDir, t.ProxyServer, why, err)
		}
		cas = p.HostCAPEM
	}
	if !id.IssuedBy(cas) {
		return stale
	}
	// The same cluster: remember where it is now.
	id.Proxy = proxy
	if t.CAPin != "" {
		id.CAPin = normalizePin(t.CAPin)
	}
	if err := join.SaveRecord(cfg.DataDir, id); err != nil {
		return err
	}
	return nil
}

// remoteLogError explains a separate agent's failure to reach NATS when
// NATS's certificate is not from the host CA the agent stored: control
// was created anew at the same address (or its host CA rotated to
// completion while the agent was away), so the identity is of a cluster
// that is gone.
func remoteLogError(cfg config.Config, jc jetstream.Config, err error) error {
	// Only an unknown authority says so (a name mismatch, an expired
	// cert are other troubles); the NATS client flattens the error.
	var unknown x509.UnknownAuthorityError
	if jc.CAFile == "" || !(errors.As(err, &unknown) || strings.Contains(err.Error(), "x509: certificate signed by unknown authority")) {
		return err
	}
	return fmt.Errorf("%w: NATS at %s presents a certificate the host CA this agent stored (%s) did not issue: "+
		"control was created anew, or its host CA rotation completed while this agent was away, so the identity in %s is stale. "+
		"Stop the agent, move %s and %s aside (the spool holds audit events of the old cluster), set tollgate.auth_token to a new join token "+
		"and tollgate.ca_pin to the pin `tollctl status` prints now, and start it again", err, jc.URL, jc.CAFile, join.Dir(cfg.DataDir),
		join.Dir(cfg.DataDir), filepath.Join(cfg.DataDir, "spool"))
}

func joinPEM(pems []string) string {
	out := ""
	for _, p := range pems {
		out += p
	}
	return out
}

// remoteLogConfig is how a separate agent reaches the event log: the NATS
// URL from its join, verified against the host CA, authenticated with its
// host cert; or, with nats.url (an external NATS), the config's
// nats.creds, nats.ca_file, nats.cert_file and nats.key_file. The join's
// files are those of the agent's identity dir, which the gateway keeps
// current (host CA bundle from its projection, renewed host cert): the
// NATS client re-reads them at every reconnect, so reconnects follow CA
// rotations and renewals.
func remoteLogConfig(cfg config.Config, id *join.Identity) (jetstream.Config, error) {
	url := cfg.NATS.URL
	if url == "" {
		url = id.NATSURL
	}
	if url == "" || url == control.NATSInProcess {
		return jetstream.Config{}, fmt.Errorf("the agent identity in %s was stored by a join to a control that could not serve agents on other hosts (NATS %q): "+
			"move %s aside, give control a NATS listener for agents (nats.listen_addr; on by default) or set nats.url, and start this agent again with a new join token",
			cfg.DataDir, id.NATSURL, join.Dir(cfg.DataDir))
	}
	dir := join.Dir(cfg.DataDir)
	// Control provisions the streams; an agent may only bind to them.
	jc := jetstream.Config{URL: url, CredsFile: cfg.NATS.Creds, Replicas: cfg.NATS.Replicas, Bind: true}
	if cfg.NATS.URL == "" {
		jc.CAFile = filepath.Join(dir, "host-ca.pem")
		jc.CertFile = filepath.Join(dir, "host.crt")
		jc.KeyFile = filepath.Join(dir, "host.key")
	} else {
		jc.CAFile, jc.CertFile, jc.KeyFile = cfg.NATS.CAFile, cfg.NATS.CertFile, cfg.NATS.KeyFile
	}
	return jc, nil
}

// agentGatewayOptions are the options of the agent a node runs: its YAML
// sections (gatewayOptions) with the process's overrides (opts), reloaded
// from opts.ConfigPath.
func agentGatewayOptions(cfg config.Config, opts AgentOptions) (gateway.Options, error) {
	o, err := gatewayOptions(cfg.Agent, cfg.DataDir)
	if err != nil {
		return o, err
	}
	o.Hostname, o.Grace, o.IdentityCheck = opts.Hostname, opts.Grace, opts.IdentityCheck
	if opts.MetricsAddr != "" {
		o.MetricsAddr = metricsAddr(opts.MetricsAddr)
	}
	o.Reloader = reloader(opts.ConfigPath, cfg.Agent)
	return o, nil
}

// newAgent builds the gateway with gopt: in a single node over control in
// this process (svc, inprocess.Control; the node creates a one-time join
// token for its own agent at first start, so the join is recorded like
// any other: token.created, token.consumed, agent.joined), else over
// remote. deps are the event log's streams, the registry and the logger.
func newAgent(ctx context.Context, cfg config.Config, gopt gateway.Options, svc *control.Service, remote *join.Remote,
	deps gateway.Deps) (*gateway.Gateway, error) {
	switch {
	case svc != nil:
		deps.Control = &inprocess.Control{Service: svc}
		token, err := localJoinToken(ctx, cfg, svc)
		if err != nil {
			return nil, err
		}
		if token != "" {
			gopt.JoinToken = func() (string, error) { return token, nil }
		}
	case remote != nil:
		deps.Control = remote
	default:
		return nil, errors.New("agent: no control in this process and no remote join (set tollgate.proxy_server)")
	}
	gw, err := gateway.New(ctx, deps, gopt)
	if err != nil {
		return nil, fmt.Errorf("agent: %w", err)
	}
	return gw, nil
}

// localJoinToken is the join token of a single node's own agent: a new
// one-time token at first start (no identity yet, no auth_token), else "".
// An identity the host CA of this very control did not issue is from
// another cluster (a data dir reused): an error.
func localJoinToken(ctx context.Context, cfg config.Config, svc *control.Service) (string, error) {
	id, err := join.Load(cfg.DataDir)
	if err == nil {
		if cas, _ := svc.CAs().Trusted(schemas.CAHost); !id.IssuedBy(cas) {
			return "", &join.StaleIdentityError{DataDir: cfg.DataDir, ID: id, Control: "the control in this process", InProcess: true}
		}
	}
	if !errors.Is(err, os.ErrNotExist) || cfg.Agent.Tollgate.AuthToken != "" {
		return "", nil
	}
	tok, err := svc.Tokens().Add(ctx, control.Caller{Kind: control.CallerUser, Name: control.AdminUser},
		wire.TokenAdd{Type: control.TokenTypeDB, TTL: localTokenTTL})
	if err != nil {
		return "", fmt.Errorf("create a join token for the local agent: %w", err)
	}
	return tok.Value, nil
}

type agentComponent struct {
	gw  *gateway.Gateway
	hup bool
}

func (a *agentComponent) Name() string { return "agent" }

func (a *agentComponent) Run(ctx context.Context) error {
	if a.hup {
		defer a.gw.ReloadOnSIGHUP(ctx)()
	}
	return a.gw.Run(ctx)
}
