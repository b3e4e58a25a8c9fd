// Package schemas holds the contract of every Tollgate event: a JSON Schema
// (2020-12) per event type under v1/, embedded in the binary, and the Go
// type of each event's data. SIEM consumers read the schemas; Go code uses
// the types.
package schemas
