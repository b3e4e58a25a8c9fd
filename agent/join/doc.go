// Package join gives an agent its identity in the cluster and its line to
// control.
//
// ControlPlane is what the agent needs from control: the join call, a
// per-session db_client cert, and registering the databases of its static
// config. Remote adapts control/client over the HTTPS API with the
// agent's host cert; the in-process adapter over a control.Service
// (single-node `tollgate start`: no HTTP hop) is internal/inprocess.Control,
// which the composition root builds, since an agent links no control.
//
// Ensure makes the agent's identity: on first start it generates a key,
// joins with the (single-use) token and stores the host cert, its key
// (0600), the CA bundles and the agent id in <data_dir>/agent; on restart
// it loads them and needs no token.
//
// Live is that identity while the agent runs: the gateway keeps its host
// CA bundle equal to the host CA's trusted set in its projection and
// renews its host cert (Renewer: POST /v1/agents/renew) when less than a
// third of its lifetime is left or a host CA rotation moved host certs to
// a new key. Each change is written to the identity dir (restarts and
// NATS reconnects read those files) and swapped in place for
// Live.ClientTLS, which Remote uses after SetLive.
package join
