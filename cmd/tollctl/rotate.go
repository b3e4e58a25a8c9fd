package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/internal/profile"
)

// Completing a host CA rotation with --auto waits for the agents'
// renewals: at most --wait (DefaultRotateWait), asking control every
// rotatePoll.
const (
	DefaultRotateWait = 3 * time.Minute
	rotatePoll        = time.Second
)

// rotateLong is auth rotate's help.
const rotateLong = `Rotate a CA without downtime. A rotation goes standby → init → update_clients →
update_servers → standby, one step per call:

  init            a new key is trusted next to the old one; the old key still signs
  update_clients  client certs (user, db_client) come from the new key
  update_servers  server certs (control's, agents', auth sign) come from the new key
  standby         (completed) only the new key is trusted

--phase=start begins (the default), --phase=next advances, --phase=rollback returns to the
old key from any phase; --auto runs every step at once (a quick rotation for clusters whose
trust bundles all follow the event log). Each step prints what to do before the next.
Rotating the host CA also updates this identity's trusted host CA bundle.

Completing a host CA rotation waits for every joined agent to hold a host cert from the
new key (agents renew within a minute of update_servers, or on restart). --auto waits for
them in update_servers, at most --wait (default 3m; progress on stderr), then completes;
if some have not renewed by then, it stops in update_servers naming them and exits
non-zero (run --phase=next later). --phase=next is refused until then. --force completes
anyway; agents still on the old key must then re-join.

After a host CA rotation completes, clients whose profile trusts only the old host CA
(toll users who did not log in during the rotation) log in again with
toll login --ca-pin=<the new pin that tollctl status shows>.`

// rotateFlags are auth rotate's flags.
type rotateFlags struct {
	req  wire.RotateRequest
	auto bool
	wait time.Duration
}

func (a *app) rotateCmd() *cobra.Command {
	var rf rotateFlags
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate a CA: start, advance or roll back a rotation, phase by phase",
		Long:  rotateLong,
		Example: `  tollctl auth rotate --type=user
  tollctl auth rotate --type=user --phase=next
  tollctl auth rotate --type=db-client --phase=rollback
  tollctl auth rotate --type=host --auto
  tollctl auth rotate --type=host --auto --wait=10m`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req, err := rf.request(cmd)
			if err != nil {
				return err
			}
			return a.rotate(cmd.Context(), req, rf.wait)
		},
	}
	f := cmd.Flags()
	f.StringVar(&rf.req.Type, "type", "", "CA: user, host, db or db-client")
	f.StringVar(&rf.req.Action, "phase", wire.RotateStart, "start, next or rollback")
	f.BoolVar(&rf.auto, "auto", false, "run every phase in order (start, then next until done)")
	f.DurationVar(&rf.wait, "wait", DefaultRotateWait, "with --auto: how long to wait in update_servers for agents to renew their host certs from the new key (0: stop at once)")
	f.StringVar(&rf.req.KeyAlg, "key-alg", "", "algorithm of the new key at start (default: the current one's)")
	f.BoolVar(&rf.req.Force, "force", false, "complete a host CA rotation even if agents still hold old-key host certs (they must re-join)")
	_ = cmd.MarkFlagRequired("type")
	return cmd
}

// request is the rotation the flags of cmd ask for, or an error saying
// which flags do not go together.
func (f *rotateFlags) request(cmd *cobra.Command) (wire.RotateRequest, error) {
	req := f.req
	if f.auto {
		if cmd.Flags().Changed("phase") {
			return wire.RotateRequest{}, fmt.Errorf("--auto runs every phase: leave out --phase")
		}
		req.Action = wire.RotateAuto
	} else if cmd.Flags().Changed("wait") {
		return wire.RotateRequest{}, fmt.Errorf("--wait is for --auto (a single --phase=next never waits)")
	}
	if f.wait < 0 {
		return wire.RotateRequest{}, fmt.Errorf("--wait must not be negative")
	}
	switch req.Action {
	case wire.RotateStart, wire.RotateNext, wire.RotateRollback, wire.RotateAuto:
	default:
		return wire.RotateRequest{}, fmt.Errorf("--phase %q: use start, next or rollback (or --auto)", req.Action)
	}
	return req, nil
}

// rotate runs req and prints where the rotation stands. With --auto, a
// host CA rotation that stops in update_servers for agents is waited for,
// at most wait, and one that does not complete is an error.
func (a *app) rotate(ctx context.Context, req wire.RotateRequest, wait time.Duration) error {
	c, p, err := a.client()
	if err != nil {
		return err
	}
	defer c.Close()
	out, err := a.rotateStep(ctx, c, p.Dir, req)
	if err != nil {
		return err
	}
	if req.Action == wire.RotateAuto && !req.Force && out.Phase == "update_servers" && len(out.Waiting) > 0 && wait > 0 {
		if out, err = a.awaitAgents(ctx, p.Dir, out, wait); err != nil {
			return err
		}
	}
	if err := a.print(out, func(w io.Writer) { renderRotation(w, out) }); err != nil {
		return err
	}
	if req.Action == wire.RotateAuto && out.Phase != "standby" {
		return fmt.Errorf("the rotation stopped in phase %s: %s", out.Phase, out.Hint)
	}
	return nil
}

// rotateStep asks control for one rotation step and, for the host CA,
// makes the identity in dir trust the answer's bundle.
func (a *app) rotateStep(ctx context.Context, c *client.Client, dir string, req wire.RotateRequest) (wire.Rotation, error) {
	out, err := c.RotateCA(ctx, req)
	if err != nil {
		return wire.Rotation{}, err
	}
	if out.Type == "host" {
		if err := updateHostCAs(dir, out); err != nil {
			return wire.Rotation{}, fmt.Errorf("the rotation step succeeded, but updating this identity's host CA bundle did not: %w", err)
		}
	}
	return out, nil
}

// awaitAgents waits, at most wait, until no joined agent holds a host
// cert from the old key, saying on stderr whom it waits for and who
// renewed, then completes the rotation. When the time is up it returns
// the rotation as it stands (still in update_servers, the hint naming the
// agents), which the caller reports as a stop.
//
// It calls control on the identity as rotateStep left it (trusting both
// host CA keys: control now serves a cert from the new one).
func (a *app) awaitAgents(ctx context.Context, dir string, out wire.Rotation, wait time.Duration) (wire.Rotation, error) {
	p, err := profile.Load(dir)
	if err != nil {
		return wire.Rotation{}, err
	}
	c, err := client.FromProfile(p, a.g.proxy)
	if err != nil {
		return wire.Rotation{}, err
	}
	defer c.Close()
	phases := out.Phases
	fmt.Fprintf(a.stderr, "%s CA: %s; waiting up to %s for %d agent(s) to renew their host certs from the new key "+
		"(agents renew within a minute): %s\n", out.Type, strings.Join(phases, " → "), wait, len(out.Waiting), strings.Join(out.Waiting, ", "))
	deadline := time.Now().Add(wait)
	tick := time.NewTicker(rotatePoll)
	defer tick.Stop()
	waiting := out.Waiting
	for {
		select {
		case <-ctx.Done():
			return wire.Rotation{}, ctx.Err()
		case <-tick.C:
		}
		st, err := c.Rotation(ctx, out.Type)
		if err != nil {
			return wire.Rotation{}, fmt.Errorf("read the rotation while waiting for agents: %w", err)
		}
		if st.Phase != "update_servers" {
			return wire.Rotation{}, fmt.Errorf("while waiting for agents, the %s CA's rotation moved to phase %s (another admin?): see tollctl status",
				out.Type, st.Phase)
		}
		if renewed := without(waiting, st.Waiting); len(renewed) > 0 {
			fmt.Fprintf(a.stderr, "renewed: %s; still waiting for %d: %s\n", strings.Join(renewed, ", "), len(st.Waiting), orNone(st.Waiting))
		} else if added := without(st.Waiting, waiting); len(added) > 0 {
			fmt.Fprintf(a.stderr, "joined meanwhile, also waiting for: %s\n", strings.Join(added, ", "))
		}
		waiting = st.Waiting
		if len(waiting) == 0 {
			done, err := a.rotateStep(ctx, c, dir, wire.RotateRequest{Type: out.Type, Action: wire.RotateNext})
			var apiErr *client.APIError
			if errors.As(err, &apiErr) && apiErr.Status == 409 {
				continue // an agent joined between the read and the step
			}
			if err != nil {
				return wire.Rotation{}, err
			}
			done.Phases = append(slices.Clone(phases), done.Phases...)
			return done, nil
		}
		if time.Now().After(deadline) {
			st.Phases = phases
			st.Hint = fmt.Sprintf("Stopped in update_servers after waiting %s: agents %s still use host certs from the old key. "+
				"Check that they run (a stopped agent renews when it starts), then run `tollctl auth rotate --type=%s --phase=next`, "+
				"or pass --force to complete anyway (those agents must re-join).", wait, strings.Join(waiting, ", "), cliType(out.Type))
			return st, nil
		}
	}
}

// without is a minus b, in a's order.
func without(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func orNone(l []string) string {
	if len(l) == 0 {
		return "none"
	}
	return strings.Join(l, ", ")
}

func cliType(t string) string { return strings.ReplaceAll(t, "_", "-") }

// updateHostCAs makes the identity in dir trust the host CA bundle of the
// answer, which came over a connection verified with the bundle it holds.
// It reloads the profile first: control may have rewritten it (the local
// admin identity) during the call.
func updateHostCAs(dir string, out wire.Rotation) error {
	p, err := profile.Load(dir)
	if err != nil {
		return err
	}
	bundle := []byte(strings.Join(out.Trusted, ""))
	if len(bundle) == 0 || bytes.Equal(p.HostCAPEM, bundle) {
		return nil
	}
	p.HostCAPEM = bundle
	if out.Phase == "standby" {
		p.CAPin = out.ActivePin
	}
	return p.Save()
}

func renderRotation(w io.Writer, out wire.Rotation) {
	if len(out.Phases) > 0 {
		fmt.Fprintf(w, "%s CA: now in phase %s (steps: %s)\n", out.Type, out.Phase, strings.Join(out.Phases, " → "))
	} else {
		fmt.Fprintf(w, "%s CA: phase %s\n", out.Type, out.Phase)
	}
	if out.NextPin != "" {
		fmt.Fprintf(w, "Old key: %s\nNew key: %s (%s)\n", out.ActivePin, out.NextPin, out.KeyAlg)
	} else {
		fmt.Fprintf(w, "Key: %s (%s)\n", out.ActivePin, out.KeyAlg)
	}
	fmt.Fprintln(w, out.Hint)
}
