package sink

import (
	"github.com/tollgate-db/tollgate/export"
	"github.com/tollgate-db/tollgate/export/sink/file"
	"github.com/tollgate-db/tollgate/export/sink/httpsink"
	"github.com/tollgate-db/tollgate/export/sink/sqlsink"
	"github.com/tollgate-db/tollgate/export/sink/syslog"
)

// Types returns every sink type: file, syslog, splunk_hec, elasticsearch,
// webhook and sql.
func Types() export.SinkTypes {
	ts := export.SinkTypes{file.SinkType(), syslog.SinkType()}
	ts = append(ts, httpsink.SinkTypes()...)
	return append(ts, sqlsink.SinkType())
}
