// Package metrics holds the agent's Prometheus metrics (active sessions,
// queries, audit publish latency and backlog, rejections by reason) and
// its health endpoint: /metrics and /healthz on the metrics address
// (default :7090).
package metrics
