package node

import (
	"context"
	"time"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/export/subscriber"
)

// exportStatus is the state of this process's export subscribers for
// control's API (tollctl export status): each consumer's delivered and
// acked stream sequences come from the server.
func (e *Env) exportStatus(ctx context.Context) wire.ExportStatus {
	if e.Config.Export == nil || len(e.Config.Export.Sinks) == 0 {
		return wire.ExportStatus{}
	}
	out := wire.ExportStatus{Configured: true}
	m := e.export.Load()
	if m == nil {
		return out // starting
	}
	for _, s := range m.Status(ctx) {
		sink := wire.ExportSink{Name: s.Sink, Type: s.Type, Format: s.Format}
		for _, x := range s.Streams {
			st := wire.ExportStream{Stream: x.Stream, Consumer: x.Consumer, Lag: x.Lag, Exported: x.Exported,
				Retrying: x.Retrying, LastError: x.LastError, LastErrorAt: x.LastErrorAt, LastSuccess: x.LastSuccess}
			st.DeliveredSeq, st.AckedSeq = e.consumerSeqs(ctx, x)
			sink.Streams = append(sink.Streams, st)
		}
		out.Sinks = append(out.Sinks, sink)
	}
	return out
}

// consumerSeqs asks the server for a consumer's delivered and acked stream
// sequences (zero when it does not answer).
func (e *Env) consumerSeqs(ctx context.Context, x subscriber.StreamStatus) (delivered, acked uint64) {
	if e.Log.JS == nil {
		return 0, 0
	}
	ictx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	c, err := e.Log.JS.Consumer(ictx, x.Stream, x.Consumer)
	if err != nil {
		return 0, 0
	}
	info, err := c.Info(ictx)
	if err != nil {
		return 0, 0
	}
	return info.Delivered.Stream, info.AckFloor.Stream
}
