// Package schemas holds the contract of every Tollgate event: a JSON Schema
// (2020-12) per event type and version under v<N>/, embedded in the binary
// (FS), and the Go type of each event's data. SIEM consumers read the
// schemas; Go code uses the types.
//
// The catalogue (Lookup, All, CurrentVersion) names each type's stream and
// current version. Marshal gives producers the data and version to stamp;
// a Validator checks events against the schemas; Decode reads any known
// version as the current Go type through upcasters. docs/SCHEMAS.md says
// how a schema changes.
package schemas
