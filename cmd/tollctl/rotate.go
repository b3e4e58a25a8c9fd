package main

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control/client/profile"
	"github.com/tollgate-db/tollgate/control/wire"
)

func (a *app) rotateCmd() *cobra.Command {
	var (
		req  wire.RotateRequest
		auto bool
	)
	cmd := &cobra.Command{
		Use:   "rotate",
		Short: "Rotate a CA: start, advance or roll back a rotation, phase by phase",
		Long: `Rotate a CA without downtime. A rotation goes standby → init → update_clients →
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
new key (agents renew within a minute of update_servers, or on restart): --phase=next is
refused and --auto stops in update_servers (exiting non-zero) until then. --force completes
anyway; agents still on the old key must then re-join.`,
		Example: `  tollctl auth rotate --type=user
  tollctl auth rotate --type=user --phase=next
  tollctl auth rotate --type=db-client --phase=rollback
  tollctl auth rotate --type=host --auto`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if auto {
				if cmd.Flags().Changed("phase") {
					return fmt.Errorf("--auto runs every phase: leave out --phase")
				}
				req.Action = wire.RotateAuto
			}
			switch req.Action {
			case wire.RotateStart, wire.RotateNext, wire.RotateRollback, wire.RotateAuto:
			default:
				return fmt.Errorf("--phase %q: use start, next or rollback (or --auto)", req.Action)
			}
			c, p, err := a.client()
			if err != nil {
				return err
			}
			defer c.Close()
			out, err := c.RotateCA(cmd.Context(), req)
			if err != nil {
				return err
			}
			if out.Type == "host" {
				if err := updateHostCAs(p.Dir, out); err != nil {
					return fmt.Errorf("the rotation step succeeded, but updating this identity's host CA bundle did not: %w", err)
				}
			}
			if err := a.print(out, func(w io.Writer) { renderRotation(w, out) }); err != nil {
				return err
			}
			if req.Action == wire.RotateAuto && out.Phase != "standby" {
				return fmt.Errorf("the rotation stopped in phase %s: %s", out.Phase, out.Hint)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Type, "type", "", "CA: user, host, db or db-client")
	f.StringVar(&req.Action, "phase", wire.RotateStart, "start, next or rollback")
	f.BoolVar(&auto, "auto", false, "run every phase in order (start, then next until done)")
	f.StringVar(&req.KeyAlg, "key-alg", "", "algorithm of the new key at start (default: the current one's)")
	f.BoolVar(&req.Force, "force", false, "complete a host CA rotation even if agents still hold old-key host certs (they must re-join)")
	_ = cmd.MarkFlagRequired("type")
	return cmd
}

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
