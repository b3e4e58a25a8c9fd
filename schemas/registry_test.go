package schemas

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestRegistryMatchesSchemaFiles: every catalogue type has a schema file
// for each of its versions, and every schema file belongs to a type.
func TestRegistryMatchesSchemaFiles(t *testing.T) {
	t.Parallel()
	files, err := schemaFiles(FS())
	require.NoError(t, err)
	seen := map[string]bool{}
	envelope := false
	for _, f := range files {
		if f.typ == "" {
			envelope = true
			continue
		}
		in, ok := Lookup(f.typ)
		require.True(t, ok, "schema file %s has no registry entry", f.path)
		require.Equal(t, in.Stream, f.stream, f.path)
		require.LessOrEqual(t, f.v, in.Version, f.path)
		seen[SchemaPath(f.stream, f.typ, f.v)] = true
	}
	require.True(t, envelope, "no envelope schema")
	for _, in := range All() {
		for v := 1; v <= in.Version; v++ {
			p := SchemaPath(in.Stream, in.Type, v)
			require.True(t, seen[p], "%s v%d has no schema file %s", in.Type, v, p)
		}
	}
}

// TestCatalogueIsComplete: every type constant of types.go is registered,
// with the stream DESIGN §3 gives it.
func TestCatalogueIsComplete(t *testing.T) {
	t.Parallel()
	audit := []string{TypeAuthLogin, TypeCertIssued, TypeSessionStarted, TypeSessionRejected,
		TypeQuery, TypeQueryResult, TypeQueryDenied, TypeQueryWouldDeny, TypeQueryFlagged, TypeSessionCancel, TypeSessionEnded, TypeAuditCheckpoint}
	control := []string{TypeClusterCreated, TypeCACreated, TypeCARotationStarted, TypeCARotationPhase,
		TypeCARotationCompleted, TypeCARotationRolledBack, TypeRoleCreated, TypeRoleUpdated, TypeRoleDeleted,
		TypeUserCreated, TypeUserUpdated, TypeUserDeleted, TypeUserPasswordSet, TypeUserInviteCreated,
		TypeTokenCreated, TypeTokenConsumed, TypeTokenDeleted, TypeAgentJoined, TypeAgentUpdated,
		TypeDatabaseRegistered, TypeDatabaseUpdated, TypeDatabaseDeregistered, TypeLockCreated, TypeLockDeleted, TypeControlHostCertIssued,
		TypeAccessRequestCreated, TypeAccessRequestReviewed, TypeAccessRequestApproved, TypeAccessRequestDenied, TypeAccessRequestDropped, TypeAccessRequestExpired,
		TypeUserMFAAdded, TypeUserMFARemoved, TypeSSOConnectorSaved, TypeSSOConnectorDeleted}
	for stream, types := range map[string][]string{StreamAudit: audit, StreamControl: control} {
		for _, typ := range types {
			in, ok := Lookup(typ)
			require.True(t, ok, typ)
			require.Equal(t, stream, in.Stream, typ)
			require.Equal(t, 1, CurrentVersion(typ), typ)
			require.Equal(t, reflect.Pointer, reflect.TypeOf(in.New()).Kind(), typ)
		}
	}
	all := All()
	require.Len(t, all, len(audit)+len(control))
	for i := 1; i < len(all); i++ {
		require.Less(t, all[i-1].Type, all[i].Type)
	}
	_, ok := Lookup("user.renamed")
	require.False(t, ok)
	require.Zero(t, CurrentVersion("user.renamed"))
}

// TestSchemaHeaders: each schema names itself and describes itself.
func TestSchemaHeaders(t *testing.T) {
	t.Parallel()
	files, err := schemaFiles(FS())
	require.NoError(t, err)
	for _, f := range files {
		doc := readSchema(t, f.path)
		require.Equal(t, "https://json-schema.org/draft/2020-12/schema", doc["$schema"], f.path)
		require.Equal(t, SchemaID(f.path), doc["$id"], f.path)
		require.NotEmpty(t, doc["title"], f.path)
		require.NotEmpty(t, doc["description"], f.path)
	}
}

// TestSchemasMatchGoTypes compares each current schema with its Go type by
// reflection: the same JSON property names, and required exactly where the
// Go field is not omitempty (recursively through nested objects).
func TestSchemasMatchGoTypes(t *testing.T) {
	t.Parallel()
	for _, in := range All() {
		doc := readSchema(t, SchemaPath(in.Stream, in.Type, in.Version))
		compareObject(t, in.Type, doc, doc, reflect.TypeOf(in.New()).Elem())
	}
}

var timeType = reflect.TypeOf(time.Time{})

func compareObject(t *testing.T, where string, root, sch map[string]any, typ reflect.Type) {
	t.Helper()
	sch = deref(t, root, sch)
	fields := map[string]jsonField{}
	collectFields(typ, fields)
	props, _ := sch["properties"].(map[string]any)
	require.Equal(t, false, sch["additionalProperties"], "%s: additionalProperties", where)
	var want, got []string
	for name := range fields {
		want = append(want, name)
	}
	for name := range props {
		got = append(got, name)
	}
	require.ElementsMatch(t, want, got, "%s: properties", where)
	var wantReq, gotReq []string
	for name, f := range fields {
		if !f.omitempty {
			wantReq = append(wantReq, name)
		}
	}
	req, _ := sch["required"].([]any)
	for _, r := range req {
		gotReq = append(gotReq, r.(string))
	}
	require.ElementsMatch(t, wantReq, gotReq, "%s: required", where)
	for name, f := range fields {
		p := deref(t, root, props[name].(map[string]any))
		ft := f.typ
		for ft.Kind() == reflect.Pointer {
			ft = ft.Elem()
		}
		switch {
		case ft == timeType:
			require.Equal(t, "date-time", p["format"], "%s.%s", where, name)
		case ft.Kind() == reflect.Struct:
			compareObject(t, where+"."+name, root, p, ft)
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			compareObject(t, where+"."+name+"[]", root, p["items"].(map[string]any), ft.Elem())
		}
	}
}

type jsonField struct {
	typ       reflect.Type
	omitempty bool
}

func collectFields(typ reflect.Type, out map[string]jsonField) {
	for i := 0; i < typ.NumField(); i++ {
		f := typ.Field(i)
		tag := f.Tag.Get("json")
		if f.Anonymous && tag == "" {
			collectFields(f.Type, out)
			continue
		}
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		out[name] = jsonField{typ: f.Type, omitempty: strings.Contains(opts, "omitempty") || strings.Contains(opts, "omitzero")}
	}
}

func deref(t *testing.T, root, sch map[string]any) map[string]any {
	t.Helper()
	ref, ok := sch["$ref"].(string)
	if !ok {
		return sch
	}
	name, ok := strings.CutPrefix(ref, "#/$defs/")
	require.True(t, ok, "unexpected $ref %s", ref)
	return root["$defs"].(map[string]any)[name].(map[string]any)
}

func readSchema(t *testing.T, path string) map[string]any {
	t.Helper()
	b, err := fs.ReadFile(FS(), path)
	require.NoError(t, err)
	var doc map[string]any
	require.NoError(t, json.Unmarshal(b, &doc), path)
	return doc
}

// TestSchemasDocListsEveryType: docs/SCHEMAS.md names every type of the
// catalogue.
func TestSchemasDocListsEveryType(t *testing.T) {
	t.Parallel()
	doc, err := os.ReadFile(filepath.Join("..", "docs", "SCHEMAS.md"))
	require.NoError(t, err)
	for _, in := range All() {
		require.Contains(t, string(doc), "`"+in.Type+"`", "docs/SCHEMAS.md does not list %s", in.Type)
	}
}
