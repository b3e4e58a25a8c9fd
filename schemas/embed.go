package schemas

import (
	"embed"
	"fmt"
	"io/fs"
)

// files holds the JSON Schemas: v<N>/envelope.schema.json and
// v<N>/<stream>/<type>.schema.json.
//
//go:embed v1
var files embed.FS

// BaseURL prefixes every schema's $id.
const BaseURL = "https://tollgate.dev/schemas/"

// FS returns the embedded schema files, laid out as under BaseURL:
// v1/envelope.schema.json, v1/control/user.created.schema.json, …
// (for `tollctl` to export them, and for SIEM consumers).
func FS() fs.FS { return files }

// SchemaPath returns the path in FS of the schema of the data of an event of
// type typ in stream (StreamControl or StreamAudit) at version v.
func SchemaPath(stream, typ string, v int) string {
	return fmt.Sprintf("v%d/%s/%s.schema.json", v, stream, typ)
}

// EnvelopePath returns the path in FS of the envelope schema of version v.
func EnvelopePath(v int) string {
	return fmt.Sprintf("v%d/envelope.schema.json", v)
}

// SchemaID returns the $id of a schema file given its path in FS.
func SchemaID(path string) string { return BaseURL + path }
