// Package httpsink holds the HTTP export sinks: Splunk HEC
// (/services/collector/event, "Authorization: Splunk <token>", events
// batched in one body), Elasticsearch _bulk (create actions into a data
// stream, the event id as _id; failed items are retried alone and a 409
// conflict counts as already stored) and a generic webhook (a JSON array
// per batch, signed with HMAC-SHA256 over the body). A 429 or 503 answer
// becomes an export.RetryAfterError honoring Retry-After. The three share
// their settings, the sink's http: section (Config, SinkTypes).
package httpsink
