// Package syslog is the RFC 5424 syslog export sink over TCP or TLS with
// octet-counting framing (RFC 6587 §3.4.1, RFC 5425). Each event is one
// message: MSGID is the event type, the structured data element
// [tollgate@32473 id="…" stream="…"] carries the event id for
// de-duplication (32473 is the documentation PEN of RFC 5612), and MSG is
// the formatted document. Its settings are the sink's syslog: section
// (Config, SinkType).
package syslog
