// Package audittest holds the event logs the tests of auditquery and of its
// renderers (internal/auditview) ask their questions of: an in-memory
// stream filled event by event at chosen times (Log), a sample audit
// trail of two sessions (SampleAudit) and a control history of roles,
// databases and a user (SampleAccess). Tests only.
package audittest
