// Package config is the agent's part of the tollgate YAML config: the
// `tollgate:` section (how to join a cluster: auth token, control address,
// CA pin, data dir) and the `db_service:` section (the PostgreSQL-wire
// listener, audit mode, limits and the databases this agent serves, static
// or matched by labels). `tollgate db configure create` writes it.
//
// Parsing is strict: an unknown key, a wrong type or a value that cannot
// work is an error naming the field path and its line, e.g.
//
//	db_service.databases[0].protocol (line 12): must be cockroachdb or postgres, got "mysql"
//
// Top-level keys other than `tollgate` and `db_service` belong to the
// daemon's own configuration (internal/config) and are ignored here.
package config
