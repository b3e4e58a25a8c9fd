// Package auditview is how tollctl and the demo show the log to people:
// Describe, the one human form of an event of either stream, and the text
// renderers of auditquery's answers (RenderRecords for a search or events
// ls/tail, RenderTranscript for a session, RenderAccess for access at a
// time, RenderVerify for a verification report). auditquery returns data;
// nothing there renders.
package auditview
