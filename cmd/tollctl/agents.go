package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
)

func (a *app) agentsCmd() *cobra.Command {
	list := func(cmd *cobra.Command, _ []string) error {
		return a.call(func(c *client.Client) error {
			ags, err := c.AgentsList(cmd.Context())
			if err != nil {
				return err
			}
			return a.print(ags, func(w io.Writer) { renderAgents(w, ags, time.Now()) })
		})
	}
	long := `List the agents that joined the cluster, from control's projection of the control stream:
id, host name, the address clients dial, the Tollgate version it reported (at its join or
latest host cert renewal), when it joined, when it was last seen, when its host cert
expires, and the databases of its config.

LAST SEEN is the time of the latest control event the agent caused, and which: its join
(agent.joined), a host cert renewal (agent.updated; agents renew when a third of the cert's
30 days is left, and when a host CA rotation moves host certs to a new key), or a change to
a database of its config at start (database.registered/updated). It is not a heartbeat: an
agent serving for days shows its last such event. Whether an agent runs now is on its
/healthz and /metrics, and in its audit checkpoints (tollctl audit search --type=audit.checkpoint).
"old host key" marks an agent a host CA rotation waits for.`
	cmd := &cobra.Command{Use: "agents", Short: "List joined agents (same as agents ls)", Long: long, Example: "  tollctl agents",
		Args: cobra.NoArgs, RunE: list}
	cmd.AddCommand(&cobra.Command{Use: "ls", Short: "List joined agents: version, last seen, host cert expiry", Long: long,
		Example: "  tollctl agents ls\n  tollctl agents ls --format=json", Args: cobra.NoArgs, RunE: list})
	return cmd
}

// renderAgents prints the agents table; now is for the relative expiry.
func renderAgents(w io.Writer, ags []wire.Agent, now time.Time) {
	if len(ags) == 0 {
		fmt.Fprintln(w, "No agent has joined. Add one with a token: tollctl tokens add --type=db, then tollgate db configure create.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tHOSTNAME\tADDRESS\tVERSION\tJOINED\tLAST SEEN\tHOST CERT EXPIRES\tDATABASES")
	for _, ag := range ags {
		exp := "(not recorded)"
		if !ag.HostCertNotAfter.IsZero() {
			exp = ag.HostCertNotAfter.UTC().Format(time.RFC3339) + " (" + relative(ag.HostCertNotAfter.Sub(now)) + ")"
		}
		if ag.OldHostKey {
			exp += " [old host key]"
		}
		seen := ag.LastSeen.UTC().Format(time.RFC3339)
		if ag.LastEvent != "" {
			seen += " (" + ag.LastEvent + ")"
		}
		addr := orDash(ag.PublicAddr)
		switch {
		case ag.Tunnel:
			addr = "tunnel (up)"
		case ag.PublicAddr == wire.TunnelAddr:
			addr = "tunnel (down)"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", ag.ID, ag.Hostname, addr, orDash(ag.Version),
			ag.JoinedAt.UTC().Format(time.RFC3339), seen, exp, orDash(strings.Join(ag.Databases, ",")))
	}
	tw.Flush()
}

// relative says how far d is, in the largest whole unit: "in 29d",
// "expired 3h ago".
func relative(d time.Duration) string {
	past := d < 0
	if past {
		d = -d
	}
	var s string
	switch {
	case d >= 48*time.Hour:
		s = fmt.Sprintf("%dd", d/(24*time.Hour))
	case d >= 2*time.Hour:
		s = fmt.Sprintf("%dh", d/time.Hour)
	default:
		s = fmt.Sprintf("%dm", d/time.Minute)
	}
	if past {
		return "expired " + s + " ago"
	}
	return "in " + s
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
