package node_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/agent/join"
	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/secret"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/config"
	"github.com/tollgate-db/tollgate/internal/node"
	"github.com/tollgate-db/tollgate/internal/node/nodetest"
)

var admin = control.Caller{Kind: control.CallerUser, Name: control.AdminUser}

// cluster is a running control node, what an agent needs to join it, and
// a fresh join token.
type cluster struct {
	n     *nodetest.Node
	pin   string
	token string
}

func newCluster(t *testing.T, mod func(*config.Config)) cluster {
	t.Helper()
	n := nodetest.StartConfig(t, nil, mod)
	st, err := n.Env.Control.Cluster().Status(admin)
	require.NoError(t, err)
	c := cluster{n: n, pin: st.CAPin}
	c.token = c.newToken(t)
	return c
}

func (c cluster) newToken(t *testing.T) string {
	t.Helper()
	tok, err := c.n.Env.Control.Tokens().Add(context.Background(), admin, wire.TokenAdd{Type: control.TokenTypeDB})
	require.NoError(t, err)
	return tok.Value
}

// consumed tells whether control recorded the token as used.
func (c cluster) consumed(t *testing.T, token string) bool {
	t.Helper()
	toks, err := c.n.Env.Control.Tokens().List(admin)
	require.NoError(t, err)
	for _, tk := range toks {
		if tk.Hash == secret.HashToken(token) {
			return tk.Consumed
		}
	}
	t.Fatalf("token not found")
	return false
}

// agentConfig is what `tollgate db configure create` writes for an agent
// of proxy with token (a value or a file) and pin, in dataDir.
func agentConfig(t *testing.T, token, proxy, pin, dataDir string) config.Config {
	t.Helper()
	yaml := fmt.Sprintf("tollgate:\n  auth_token: %s\n  proxy_server: %s\n  ca_pin: %s\n  data_dir: %s\ndb_service:\n  listen_addr: 127.0.0.1:0\n  metrics_addr: none\n",
		token, proxy, pin, dataDir)
	cfg, err := config.Parse([]byte(yaml))
	require.NoError(t, err)
	require.False(t, cfg.ControlEnabled())
	return cfg
}

func runAgentOnce(t *testing.T, cfg config.Config) error {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	return node.Run(ctx, cfg, zerolog.Nop(), node.Options{Agent: node.AgentOptions{Hostname: "remote1"}})
}

// TestRemoteJoinRefusedWithoutNATSListener: a control whose embedded NATS
// has no listener for agents (nats.listen_addr: none) refuses a remote
// join up front with what to do: the token is not spent and the agent
// stores no identity. A wrong pin is refused at first contact.
func TestRemoteJoinRefusedWithoutNATSListener(t *testing.T) {
	t.Parallel()
	c := newCluster(t, func(cfg *config.Config) { cfg.NATS.ListenAddr = "none" })
	dir := t.TempDir()

	err := runAgentOnce(t, agentConfig(t, c.token, c.n.Addr, fmt.Sprintf("sha256:%064d", 0), dir))
	require.ErrorContains(t, err, "pin")

	err = runAgentOnce(t, agentConfig(t, c.token, c.n.Addr, c.pin, dir))
	require.ErrorContains(t, err, "this control cannot serve an agent on another host")
	require.ErrorContains(t, err, "nats.listen_addr: none")
	require.ErrorContains(t, err, "join token was not used")
	require.False(t, c.consumed(t, c.token), "the token is not spent")
	_, err = join.Load(dir)
	require.ErrorIs(t, err, os.ErrNotExist, "no identity is stored")
}

// TestRemoteAgentIdentityChecks: an agent joins with a token file (read at
// its first start only: afterwards the file may go) through localhost and
// gets the NATS URL at the name it dialed (control has no public_addr).
// Pointed at the same control by another name (127.0.0.1), the agent asks
// control, finds its identity good and records the new address. Pointed at another cluster (proxy,
// pin and a new token of that cluster), it refuses with what to do and
// spends nothing; done as told (identity and spool moved aside), it joins
// the new cluster. A single node whose data dir holds that old identity
// refuses it too.
func TestRemoteAgentIdentityChecks(t *testing.T) {
	t.Parallel()
	a := newCluster(t, nil)
	_, port, err := net.SplitHostPort(a.n.Addr)
	require.NoError(t, err)
	dir := t.TempDir()
	tokenFile := filepath.Join(t.TempDir(), "token")
	require.NoError(t, os.WriteFile(tokenFile, []byte(a.token+"\n"), 0o600))

	env, stop := startNode(t, agentConfig(t, tokenFile, "localhost:"+port, a.pin, dir), node.Options{Agent: node.AgentOptions{Hostname: "remote1"}})
	agentID := env.Agent.AgentID()
	stop()
	require.True(t, a.consumed(t, a.token))
	id, err := join.Load(dir)
	require.NoError(t, err)
	require.Equal(t, "localhost:"+port, id.Proxy)
	require.Equal(t, a.pin, id.CAPin)
	require.True(t, strings.HasPrefix(id.NATSURL, "tls://localhost:"), "NATS at the name the agent dialed: %s", id.NATSURL)
	require.NoError(t, os.Remove(tokenFile))

	// The same control by another name: the identity is good.
	env, stop = startNode(t, agentConfig(t, tokenFile, a.n.Addr, a.pin, dir), node.Options{Agent: node.AgentOptions{Hostname: "remote1"}})
	require.Equal(t, agentID, env.Agent.AgentID())
	stop()
	id, err = join.Load(dir)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:"+port, id.Proxy, "the new address is recorded")

	// Another cluster: refused, with what to do; its token is not spent.
	b := newCluster(t, nil)
	err = runAgentOnce(t, agentConfig(t, b.token, b.n.Addr, b.pin, dir))
	var stale *join.StaleIdentityError
	require.True(t, errors.As(err, &stale), "%v", err)
	require.Equal(t, agentID, stale.ID.AgentID)
	for _, want := range []string{"holds the identity of agent " + agentID, "tollgate.proxy_server is " + b.n.Addr,
		"tollgate.ca_pin is " + b.pin, "move " + join.Dir(dir) + " and " + filepath.Join(dir, "spool") + " aside",
		"new join token", "set tollgate.proxy_server and tollgate.ca_pin back"} {
		require.ErrorContains(t, err, want)
	}
	require.False(t, b.consumed(t, b.token))
	id, err = join.Load(dir)
	require.NoError(t, err)
	require.Equal(t, agentID, id.AgentID, "the identity is left as it was")

	// Done as told: the agent joins the new cluster.
	old := filepath.Join(t.TempDir(), "old-agent")
	require.NoError(t, os.Rename(join.Dir(dir), old))
	require.NoError(t, os.Rename(filepath.Join(dir, "spool"), filepath.Join(t.TempDir(), "old-spool")))
	env, stop = startNode(t, agentConfig(t, b.token, b.n.Addr, b.pin, dir), node.Options{Agent: node.AgentOptions{Hostname: "remote1"}})
	require.NotEqual(t, agentID, env.Agent.AgentID())
	stop()
	require.True(t, b.consumed(t, b.token))

	// A single node whose data dir holds the identity of cluster a's agent.
	single := t.TempDir()
	require.NoError(t, os.Rename(old, join.Dir(single)))
	cfg := config.Default()
	cfg.DataDir, cfg.ClusterName = single, "single"
	cfg.Control.ListenAddr, cfg.Control.MetricsAddr, cfg.NATS.ListenAddr = "127.0.0.1:0", "none", "none"
	cfg.AgentEnabled = true
	cfg.Agent.DBService.ListenAddr, cfg.Agent.DBService.MetricsAddr = "127.0.0.1:0", "none"
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	err = node.Run(ctx, cfg, zerolog.Nop(), node.Options{})
	require.True(t, errors.As(err, &stale), "%v", err)
	require.ErrorContains(t, err, "the control in this process does not know it")
	require.ErrorContains(t, err, "the node joins its own agent anew")
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().String()
}

// TestRemoteAgentControlRecreated: control is created anew at the same
// addresses (a new cluster: new host CA) while the agent's config stays as
// it was. Nothing in the config differs, so the agent connects to NATS;
// the certificate there is not from the host CA it stored, and the error
// says the identity is stale and what to do instead of a bare x509 error.
func TestRemoteAgentControlRecreated(t *testing.T) {
	t.Parallel()
	controlAddr, natsAddr := freeAddr(t), freeAddr(t)
	at := func(c *config.Config) { c.Control.ListenAddr, c.NATS.ListenAddr = controlAddr, natsAddr }
	a := newCluster(t, at)
	dir := t.TempDir()
	cfg := agentConfig(t, a.token, controlAddr, a.pin, dir)
	_, stop := startNode(t, cfg, node.Options{Agent: node.AgentOptions{Hostname: "remote1"}})
	stop()
	a.n.Stop()

	newCluster(t, at)
	err := runAgentOnce(t, cfg)
	require.ErrorContains(t, err, "x509")
	require.ErrorContains(t, err, "presents a certificate the host CA this agent stored ("+filepath.Join(join.Dir(dir), "host-ca.pem")+") did not issue")
	require.ErrorContains(t, err, "is stale")
	require.ErrorContains(t, err, "move "+join.Dir(dir)+" and "+filepath.Join(dir, "spool")+" aside")
}
