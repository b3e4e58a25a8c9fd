package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"github.com/tollgate-db/tollgate/control/client"
	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/auditview"
)

// tailPoll is how often events tail asks for new events.
const tailPoll = 500 * time.Millisecond

func (a *app) eventsCmd() *cobra.Command {
	cmd := &cobra.Command{Use: "events", Short: "Read the control and audit event streams (auditor or editor)"}
	cmd.AddCommand(a.eventsLsCmd(), a.eventsTailCmd())
	return cmd
}

// eventsFlags are the flags events ls and events tail share.
type eventsFlags struct {
	q     wire.EventsQuery
	since string
}

func (f *eventsFlags) register(c *cobra.Command) {
	c.Flags().StringVar(&f.q.Stream, "stream", "control", "control or audit")
	c.Flags().StringVar(&f.q.Type, "type", "", "only events of this type (e.g. user.created)")
	c.Flags().StringVar(&f.since, "since", "", "only events since a duration ago (1h) or a time (RFC 3339)")
}

// query is the query the flags ask for, --since read as of now.
func (f *eventsFlags) query() (wire.EventsQuery, error) {
	q := f.q
	var err error
	q.Since, err = parseWhen("--since", f.since, time.Now())
	return q, err
}

func (a *app) eventsLsCmd() *cobra.Command {
	var f eventsFlags
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List events, one line each as people read them (--format=json for the events themselves)",
		Example: `  tollctl events ls
  tollctl events ls --stream=audit --type=auth.login --since=1h --format=json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := f.query()
			if err != nil {
				return err
			}
			c, _, err := a.client()
			if err != nil {
				return err
			}
			defer c.Close()
			var all []wire.Event
			err = pages(cmd.Context(), c, q, false, func(evs []wire.Event) error {
				all = append(all, evs...)
				return nil
			})
			if err != nil {
				return err
			}
			if all == nil {
				all = []wire.Event{}
			}
			return a.print(all, func(w io.Writer) {
				if len(all) == 0 {
					fmt.Fprintln(w, "No event matches.")
					return
				}
				_ = auditview.RenderRecords(w, records(all), auditview.RecordsOptions{})
			})
		},
	}
	f.register(ls)
	return ls
}

func (a *app) eventsTailCmd() *cobra.Command {
	var f eventsFlags
	tail := &cobra.Command{
		Use:   "tail",
		Short: "Print events as they are appended, until interrupted",
		Example: `  tollctl events tail --stream=audit
  tollctl events tail --type=role.updated`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			q, err := f.query()
			if err != nil {
				return err
			}
			if q.Since.IsZero() {
				q.Since = time.Now()
			}
			c, _, err := a.client()
			if err != nil {
				return err
			}
			defer c.Close()
			err = pages(cmd.Context(), c, q, true, a.tailPage())
			if cmd.Context().Err() != nil {
				return nil
			}
			return err
		},
	}
	f.register(tail)
	return tail
}

// tailPage prints each page events tail reads: in text, the table's
// header before the first events only; otherwise each event on its own.
func (a *app) tailPage() func(evs []wire.Event) error {
	header := true
	return func(evs []wire.Event) error {
		if a.g.format == formatText {
			if len(evs) == 0 {
				return nil
			}
			err := auditview.RenderRecords(a.stdout, records(evs), auditview.RecordsOptions{NoHeader: !header, NoCount: true})
			header = false
			return err
		}
		for _, e := range evs {
			if err := a.print(e, nil); err != nil {
				return err
			}
		}
		return nil
	}
}

// pages reads pages from q; with follow it keeps polling until ctx ends.
func pages(ctx context.Context, c *client.Client, q wire.EventsQuery, follow bool, fn func([]wire.Event) error) error {
	for {
		page, err := c.Events(ctx, q)
		if err != nil {
			return err
		}
		if err := fn(page.Events); err != nil {
			return err
		}
		moved := page.LastSeq+1 > q.FromSeq && page.LastSeq > 0
		if moved {
			q.FromSeq = page.LastSeq + 1
		}
		if len(page.Events) > 0 && moved {
			continue
		}
		if !follow {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(tailPoll):
		}
	}
}

// records are the events of an answer as the renderers take them.
func records(evs []wire.Event) []eventlog.Record {
	recs := make([]eventlog.Record, len(evs))
	for i, e := range evs {
		recs[i] = eventlog.Record{StreamSeq: e.Seq, Event: e.Event}
	}
	return recs
}
