package export

import (
	"fmt"
	"reflect"
	"slices"
	"strings"

	"gopkg.in/yaml.v3"
)

// Settings are one sink type's own settings: the section of a SinkConfig
// its package defines (with the section's YAML tags) and checks.
type Settings interface {
	// Validate fills the settings' defaults and checks them for sink sc,
	// whose common fields are filled; an error (Invalid) names the field
	// under p, the sink's path (export.sinks[i]).
	Validate(p string, sc *SinkConfig) error
	// Open builds sc's sink from the validated settings.
	Open(sc *SinkConfig) (Sink, error)
}

// SinkType is one kind of sink a SinkConfig can name: what its package
// tells export of it.
type SinkType struct {
	// Name is what SinkConfig.Type says: file, syslog, splunk_hec, …
	Name string
	// Section is the key of the type's settings in the sink's mapping;
	// types may share one (the HTTP sinks' http).
	Section string
	// Format is the type's default format (empty: native).
	Format string
	// New returns empty settings for the section to decode into: a
	// pointer to a struct of scalar fields (inline structs count).
	New func() Settings
}

// SinkTypes are the types a process knows, in the order messages list
// them. The composition root has the list (export/sink.Types): export
// does not import its sinks, which import it.
type SinkTypes []SinkType

// Lookup returns the type called name.
func (ts SinkTypes) Lookup(name string) (SinkType, bool) {
	for _, t := range ts {
		if t.Name == name {
			return t, true
		}
	}
	return SinkType{}, false
}

// section returns the first type whose settings are under key.
func (ts SinkTypes) section(key string) (SinkType, bool) {
	for _, t := range ts {
		if t.Section == key {
			return t, true
		}
	}
	return SinkType{}, false
}

// names lists the type names: "file, syslog or sql".
func (ts SinkTypes) names() string {
	n := make([]string, len(ts))
	for i, t := range ts {
		n[i] = t.Name
	}
	if len(n) < 2 {
		return strings.Join(n, "")
	}
	return strings.Join(n[:len(n)-1], ", ") + " or " + n[len(n)-1]
}

// checkKeys refuses a key of the sink's mapping that is neither a common
// field nor a type's section, and a section of another type than own
// that does not decode (a field its settings do not have, a value of the
// wrong kind): it names the key and its line. Own is decoded later, by
// decodeSettings.
func (s *SinkConfig) checkKeys(p string, types SinkTypes, own string) error {
	keys := make([]string, 0, len(s.Sections))
	for k := range s.Sections {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		n := s.Sections[k]
		t, ok := types.section(k)
		if !ok {
			return Invalid(p+"."+k, "unknown field (line %d): use name, type, format, streams, filter, batch, retry or a sink type's section (%s)",
				n.Line, types.sectionNames())
		}
		if k == own {
			continue
		}
		if err := decodeSection(&n, t.New(), p+"."+k); err != nil {
			return err
		}
	}
	return nil
}

func (ts SinkTypes) sectionNames() string {
	var n []string
	for _, t := range ts {
		if !slices.Contains(n, t.Section) {
			n = append(n, t.Section)
		}
	}
	return strings.Join(n, ", ")
}

// decodeSettings sets s.Settings from the type's section (empty settings
// when there is none), unless code set them; settings of another type are
// refused.
func (s *SinkConfig) decodeSettings(p string, t SinkType) error {
	want := t.New()
	if s.Settings != nil {
		if reflect.TypeOf(s.Settings) != reflect.TypeOf(want) {
			return Invalid(p+"."+t.Section, "type %s takes %T settings, not %T", s.Type, want, s.Settings)
		}
		return nil
	}
	if n, ok := s.Sections[t.Section]; ok {
		if err := decodeSection(&n, want, p+"."+t.Section); err != nil {
			return err
		}
	}
	s.Settings = want
	return nil
}

// decodeSection decodes n into v strictly: a key with no field of v is an
// error naming it and its line (yaml.Node.Decode has no KnownFields).
func decodeSection(n *yaml.Node, v Settings, p string) error {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.Kind == yaml.MappingNode {
		known := yamlFields(reflect.TypeOf(v).Elem())
		for i := 0; i+1 < len(n.Content); i += 2 {
			if k := n.Content[i]; !slices.Contains(known, k.Value) {
				return Invalid(p+"."+k.Value, "unknown field (line %d): known fields here: %s", k.Line, strings.Join(known, ", "))
			}
		}
	}
	if err := n.Decode(v); err != nil {
		return fmt.Errorf("%w: %s: %v", ErrInvalid, p, err)
	}
	return nil
}

// yamlFields returns the keys yaml.v3 decodes into struct t, sorted: a
// field's tag name, else its name in lower case; an inline struct's keys.
func yamlFields(t reflect.Type) []string {
	var out []string
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, flags, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		switch {
		case !f.IsExported() && !f.Anonymous, name == "-":
		case flags == "inline" && f.Type.Kind() == reflect.Struct:
			out = append(out, yamlFields(f.Type)...)
		case name == "":
			out = append(out, strings.ToLower(f.Name))
		default:
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// Opened returns what a sink's constructor returned as a Sink: nil with
// the error, not a Sink holding a nil pointer. Settings.Open uses it:
// return export.Opened(New(*c)).
func Opened[S Sink](s S, err error) (Sink, error) {
	if err != nil {
		return nil, err
	}
	return s, nil
}
