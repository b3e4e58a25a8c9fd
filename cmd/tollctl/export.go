package main

import (
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control/wire"
)

func (a *app) exportCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "export", Short: "Inspect the export subscribers (auditor)"}
	cmd.AddCommand(&cobra.Command{
		Use:   "status",
		Short: "Each export sink's consumer: delivered and acked sequence, lag, last error",
		Long: `Show the export subscribers running in control's process (the export: section of its
config): per sink and stream, the durable consumer, the last stream sequence delivered to the
sink and the one up to which it accepted everything, the lag (events not yet accepted), the
events exported since start, and the last error. Export subscribers running in other processes
report on their own /metrics (tollgate_export_lag_events).`,
		Example: `  tollctl export status
  tollctl export status --format=json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cl, p, err := a.client()
			if err != nil {
				return err
			}
			defer cl.Close()
			st, err := cl.ExportStatus(cmd.Context())
			if err != nil {
				return err
			}
			addr := p.Proxy
			if a.g.proxy != "" {
				addr = a.g.proxy
			}
			return a.print(st, func(w io.Writer) { renderExportStatus(w, st, addr) })
		},
	})
	return cmd
}

// renderExportStatus writes one row per sink and stream.
func renderExportStatus(w io.Writer, st wire.ExportStatus, addr string) {
	if !st.Configured {
		fmt.Fprintf(w, "No export is configured on this node (control at %s): add an export: section with sinks to its\n"+
			"config file (tollgate start --config FILE) and restart it.\n", addr)
		return
	}
	if len(st.Sinks) == 0 {
		fmt.Fprintln(w, "Export is configured but its subscribers are still starting: try again in a moment.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SINK\tTYPE\tFORMAT\tSTREAM\tCONSUMER\tDELIVERED\tACKED\tLAG\tEXPORTED\tSTATE\tLAST ERROR")
	for _, s := range st.Sinks {
		for _, x := range s.Streams {
			state := "ok"
			if x.Retrying {
				state = "retrying"
			}
			last := "-"
			if x.LastError != "" {
				last = x.LastErrorAt.UTC().Format(time.RFC3339) + " " + x.LastError
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%d\t%s\t%s\n", s.Name, s.Type, s.Format, x.Stream, x.Consumer,
				x.DeliveredSeq, x.AckedSeq, x.Lag, x.Exported, state, last)
		}
	}
	_ = tw.Flush()
}
