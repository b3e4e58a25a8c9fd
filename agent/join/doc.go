// Package join gives an agent its identity in the cluster and its line to
// control.
//
// ControlPlane is what the agent needs from control: the join call, a
// per-session db_client cert, and registering the databases of its static
// config. Local adapts an in-process control.Service (single-node
// `tollgate start`: no HTTP hop); Remote adapts control/client over the
// HTTPS API with the agent's host cert.
//
// Ensure makes the agent's identity: on first start it generates a key,
// joins with the (single-use) token and stores the host cert, its key
// (0600), the CA bundles and the agent id in <data_dir>/agent; on restart
// it loads them and needs no token.
package join
