package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
)

// startNATSServer runs the built nats-server with JetStream on disk in
// dir, on a free loopback port, as the external event log of the
// production shape. It is plaintext without auth; agents and control
// can now reach an external NATS over mTLS (nats.ca_file, cert_file,
// key_file), which this row does not measure yet (see BENCHMARKS.md).
func startNATSServer(ctx context.Context, b bins, dir string) (*daemon, string, error) {
	port, err := freePort()
	if err != nil {
		return nil, "", err
	}
	store := filepath.Join(dir, "nats-store")
	if err := os.MkdirAll(store, 0o700); err != nil {
		return nil, "", err
	}
	addr := "127.0.0.1:" + strconv.Itoa(port)
	d, err := startDaemon("nats-server", filepath.Join(dir, "nats-server.log"), os.Environ(), b.path("nats-server"),
		"-a", "127.0.0.1", "-p", strconv.Itoa(port), "-js", "-sd", store)
	if err != nil {
		return nil, "", err
	}
	if err := d.waitFor(ctx, "nats-server listens", func() bool { return listening(addr) }); err != nil {
		d.stop()
		return nil, "", err
	}
	return d, fmt.Sprintf("nats://%s", addr), nil
}

// startExternal starts nats-server and a control on it, for the rows of
// o.external (none: nothing).
func (t *topology) startExternal(ctx context.Context, o options) error {
	if len(o.external) == 0 {
		return nil
	}
	var err error
	var url string
	if t.nats, url, err = startNATSServer(ctx, t.b, t.dir); err != nil {
		return err
	}
	if t.ext, err = startControl(ctx, t.b, t.dir, "ext", url, false); err != nil {
		return fmt.Errorf("control on nats-server: %w", err)
	}
	t.natsURL = url
	return nil
}

// startExternalAgents starts an agent per mode of o.external, joined to
// the control on nats-server and publishing to nats-server (nats.url).
func (t *topology) startExternalAgents(ctx context.Context, o options) error {
	for _, m := range o.external {
		a, err := t.ext.startAgent(ctx, agentSpec{name: "agent " + m + " (nats-server)", route: "pg-ext-" + m, mode: m,
			pgAddr: t.pg.Addr(), dbCA: t.dbCA(), natsURL: t.natsURL})
		if a != nil {
			t.extAgents = append(t.extAgents, a)
		}
		if err != nil {
			return err
		}
	}
	if len(o.external) == 0 {
		return nil
	}
	return t.ext.addBenchUser(ctx, false)
}
