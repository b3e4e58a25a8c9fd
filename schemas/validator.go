package schemas

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/santhosh-tekuri/jsonschema/v6/kind"
	"golang.org/x/text/language"
	"golang.org/x/text/message"

	"github.com/tollgate-db/tollgate/eventlog"
)

// Validator checks events against the embedded JSON Schemas: the envelope,
// then the data of the event's type at the event's version. Build one with
// NewValidator (it compiles every schema once) and share it: Validate is
// safe for concurrent use.
type Validator struct {
	reg      *registry
	envelope *jsonschema.Schema
	data     map[schemaKey]*jsonschema.Schema
	versions map[string][]int // sorted versions with a schema, per type
	printer  *message.Printer
}

type schemaKey struct {
	typ string
	v   int
}

var _ eventlog.Validator = (*Validator)(nil)

// NewValidator compiles the embedded schemas of every catalogue type.
func NewValidator() (*Validator, error) {
	return newValidator(defaultRegistry())
}

func newValidator(reg *registry) (*Validator, error) {
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	v := &Validator{
		reg:      reg,
		data:     make(map[schemaKey]*jsonschema.Schema),
		versions: make(map[string][]int),
		printer:  message.NewPrinter(language.English),
	}
	files, err := schemaFiles(reg.fsys)
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		doc, err := readJSON(reg.fsys, f.path)
		if err != nil {
			return nil, err
		}
		if err := c.AddResource(SchemaID(f.path), doc); err != nil {
			return nil, fmt.Errorf("add schema %s: %w", f.path, err)
		}
	}
	for _, f := range files {
		sch, err := c.Compile(SchemaID(f.path))
		if err != nil {
			return nil, fmt.Errorf("compile schema %s: %w", f.path, err)
		}
		if f.typ == "" {
			if f.v == 1 {
				v.envelope = sch
			}
			continue
		}
		in, ok := reg.byType[f.typ]
		if !ok {
			return nil, fmt.Errorf("schema %s: %w %q", f.path, ErrUnknownType, f.typ)
		}
		if in.Stream != f.stream {
			return nil, fmt.Errorf("schema %s: %s is a %s event", f.path, f.typ, in.Stream)
		}
		v.data[schemaKey{f.typ, f.v}] = sch
		v.versions[f.typ] = append(v.versions[f.typ], f.v)
	}
	if v.envelope == nil {
		return nil, fmt.Errorf("schema %s missing", EnvelopePath(1))
	}
	for _, in := range reg.sorted {
		if _, ok := v.data[schemaKey{in.Type, in.Version}]; !ok {
			return nil, fmt.Errorf("schema %s missing", SchemaPath(in.Stream, in.Type, in.Version))
		}
		sort.Ints(v.versions[in.Type])
	}
	return v, nil
}

// schemaFile is one schema file of the FS: the envelope (typ "") or the data
// schema of typ at version v.
type schemaFile struct {
	path   string
	v      int
	stream string
	typ    string
}

// schemaFiles lists the *.schema.json files of fsys, refusing any file that
// is not laid out as v<N>/envelope.schema.json or v<N>/<stream>/<type>.schema.json.
func schemaFiles(fsys fs.FS) ([]schemaFile, error) {
	var out []schemaFile
	err := fs.WalkDir(fsys, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, ok := parseSchemaPath(path)
		if !ok {
			return fmt.Errorf("schema file %s: not v<N>/envelope.schema.json or v<N>/<control|audit>/<type>.schema.json", path)
		}
		out = append(out, f)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list schemas: %w", err)
	}
	return out, nil
}

func parseSchemaPath(path string) (schemaFile, bool) {
	parts := strings.Split(path, "/")
	if len(parts) < 2 || len(parts) > 3 || !strings.HasPrefix(parts[0], "v") {
		return schemaFile{}, false
	}
	v, err := strconv.Atoi(parts[0][1:])
	if err != nil || v < 1 {
		return schemaFile{}, false
	}
	if len(parts) == 2 {
		return schemaFile{path: path, v: v}, parts[1] == "envelope.schema.json"
	}
	typ, ok := strings.CutSuffix(parts[2], ".schema.json")
	if !ok || typ == "" || parts[1] != StreamControl && parts[1] != StreamAudit {
		return schemaFile{}, false
	}
	return schemaFile{path: path, v: v, stream: parts[1], typ: typ}, true
}

func readJSON(fsys fs.FS, path string) (any, error) {
	b, err := fs.ReadFile(fsys, path)
	if err != nil {
		return nil, fmt.Errorf("read schema: %w", err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("parse schema %s: %w", path, err)
	}
	return doc, nil
}

// Validate checks ev: the envelope, the type (known), the version (one with
// a schema), the subject (in the type's stream; an audit subject ends with
// the type token), the hash chain fields (audit events only), then the data
// against the schema of ev.Type at ev.V. It returns nil or a
// *ValidationError naming the most specific field at fault.
func (v *Validator) Validate(ev *eventlog.Event) error {
	if ev == nil {
		return &ValidationError{Reason: "nil event"}
	}
	fail := func(field, reason string, sentinel error) error {
		return &ValidationError{Type: ev.Type, Version: ev.V, Field: field, Reason: reason, Err: sentinel}
	}
	raw, err := json.Marshal(ev)
	if err != nil {
		return fail("/data", "not valid JSON", nil)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		return fail("", "envelope is not valid JSON: "+err.Error(), nil)
	}
	if err := v.envelope.Validate(inst); err != nil {
		return v.schemaError(ev, "", err)
	}
	in, ok := v.reg.byType[ev.Type]
	if !ok {
		return fail("/type", fmt.Sprintf("unknown event type %q", ev.Type), ErrUnknownType)
	}
	sch, ok := v.data[schemaKey{ev.Type, ev.V}]
	if !ok {
		return fail("/v", fmt.Sprintf("no schema for version %d (known: %s)", ev.V, versionList(v.versions[ev.Type])), ErrUnknownVersion)
	}
	prefix := "tollgate." + in.Stream + "."
	if !strings.HasPrefix(ev.Subject, prefix) {
		return fail("/subject", fmt.Sprintf("a %s event must be on a %s… subject, not %q", in.Stream, prefix, ev.Subject), nil)
	}
	if in.Stream == StreamAudit && !strings.HasSuffix(ev.Subject, "."+eventlog.TypeToken(ev.Type)) {
		return fail("/subject", fmt.Sprintf("audit subject %q must end with .%s", ev.Subject, eventlog.TypeToken(ev.Type)), nil)
	}
	if in.Stream == StreamControl && (ev.Seq != 0 || ev.Prev != "" || ev.Hash != "") {
		return fail("/seq", "hash chain fields (seq, prev, hash) are for audit events only", nil)
	}
	if ev.Time.IsZero() {
		return fail("/time", "time is not set", nil)
	}
	data := inst.(map[string]any)["data"]
	if err := sch.Validate(data); err != nil {
		return v.schemaError(ev, "/data", err)
	}
	return nil
}

func versionList(vs []int) string {
	s := make([]string, len(vs))
	for i, n := range vs {
		s[i] = "v" + strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}

// schemaError turns a jsonschema error into a one-line *ValidationError
// about its most specific cause: the deepest instance location, then the
// first in pointer and reason order, so the choice is deterministic.
func (v *Validator) schemaError(ev *eventlog.Event, prefix string, err error) error {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return &ValidationError{Type: ev.Type, Version: ev.V, Field: prefix, Reason: err.Error()}
	}
	var leaves []*jsonschema.ValidationError
	collectLeaves(ve, &leaves)
	type cause struct {
		depth  int
		field  string
		reason string
	}
	causes := make([]cause, 0, len(leaves))
	for _, l := range leaves {
		loc := append([]string(nil), l.InstanceLocation...)
		reason := l.ErrorKind.LocalizedString(v.printer)
		switch k := l.ErrorKind.(type) {
		case *kind.Required:
			loc = append(loc, k.Missing[0])
		case *kind.DependentRequired:
			loc = append(loc, k.Missing[0])
		case *kind.AdditionalProperties:
			sort.Strings(k.Properties)
			loc = append(loc, k.Properties[0])
			reason = "unknown " + quotedList("property", "properties", k.Properties)
		}
		field := prefix + pointer(loc)
		if _, ok := l.ErrorKind.(*kind.Pattern); ok && field == "/subject" {
			reason = fmt.Sprintf("%q is not tollgate.control.<kind>.<name> or tollgate.audit.<db>.<user>.<session>.<type> with names encoded by eventlog.Token", ev.Subject)
		}
		causes = append(causes, cause{len(loc), field, reason})
	}
	sort.SliceStable(causes, func(i, j int) bool {
		if causes[i].depth != causes[j].depth {
			return causes[i].depth > causes[j].depth
		}
		if causes[i].field != causes[j].field {
			return causes[i].field < causes[j].field
		}
		return causes[i].reason < causes[j].reason
	})
	c := causes[0]
	return &ValidationError{Type: ev.Type, Version: ev.V, Field: c.field, Reason: c.reason, Err: ErrInvalid}
}

func collectLeaves(e *jsonschema.ValidationError, out *[]*jsonschema.ValidationError) {
	if len(e.Causes) == 0 {
		*out = append(*out, e)
		return
	}
	for _, c := range e.Causes {
		collectLeaves(c, out)
	}
}

// pointer renders a JSON pointer (RFC 6901).
func pointer(tokens []string) string {
	var b strings.Builder
	for _, t := range tokens {
		b.WriteByte('/')
		b.WriteString(strings.NewReplacer("~", "~0", "/", "~1").Replace(t))
	}
	return b.String()
}

func quotedList(one, many string, names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = "'" + n + "'"
	}
	if len(q) == 1 {
		return one + " " + q[0]
	}
	return many + " " + strings.Join(q, ", ")
}
