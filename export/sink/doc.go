// Package sink is the list of export sink types this build has: Types,
// what export.Config.Validate reads a sink's settings with and what
// export/subscriber opens sinks by. Each type's package (file, syslog,
// httpsink, sqlsink) owns its settings, their validation and the sink; this
// is the one place that names them all (export cannot: its sinks import
// it).
package sink
