// Package config is the tollgate daemon's configuration: a YAML file (or
// none), overridden by flags, with defaults that run a single node in
// ./tollgate-data with embedded NATS JetStream and control.
package config
