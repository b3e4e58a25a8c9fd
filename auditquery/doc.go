// Package auditquery answers auditors' questions from the event log, for
// tollctl through the control API: Search (audit events by user, database,
// session, type and time), Session (one session's transcript), AccessAt
// (what a user could reach at a past moment, by replaying the control
// stream up to it) and Verify / VerifyFile (the audit log, or an exported
// copy of it, checked against the control stream: hash chains, signed
// checkpoints, where each chain starts; see LoadAnchors). Every question is
// asked with server-side subject filters and time bounds (DESIGN §3), never
// by reading the whole stream. It returns data; the text tollctl and the
// demo print of it (and of any event: Describe) is internal/auditview's.
package auditquery
