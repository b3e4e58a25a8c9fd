package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// Load reads and parses the agent part of the config file at path.
func Load(path string) (File, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return File{}, fmt.Errorf("read config: %w", err)
	}
	return Parse(raw)
}

// Parse decodes the `tollgate:` and `db_service:` sections of a YAML
// document over the defaults and validates them. Other top-level keys are
// left to the daemon's configuration. Errors name the field path and line.
func Parse(raw []byte) (File, error) {
	var doc yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&doc); err != nil && !errors.Is(err, io.EOF) {
		return File{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	var f File
	root := documentRoot(&doc)
	if root != nil {
		if root.Kind != yaml.MappingNode {
			return File{}, fmt.Errorf("%w: line %d: the config must be a mapping of sections (tollgate:, db_service:, …)", ErrInvalid, root.Line)
		}
		if errs := checkKnown(root, reflect.TypeOf(f), nil, true); len(errs) > 0 {
			return File{}, errors.Join(errs...)
		}
		if err := root.Decode(&f); err != nil {
			return File{}, fmt.Errorf("%w: %v", ErrInvalid, err)
		}
	}
	f.fill()
	if err := f.validate(); err != nil {
		setLines(root, err)
		return File{}, err
	}
	return f, nil
}

// Validate checks values that cannot work, after filling defaults.
func (f *File) Validate() error {
	f.fill()
	return f.validate()
}

func documentRoot(doc *yaml.Node) *yaml.Node {
	if doc.Kind == yaml.DocumentNode && len(doc.Content) > 0 {
		return doc.Content[0]
	}
	if doc.Kind == 0 {
		return nil
	}
	return doc
}

var unmarshalerType = reflect.TypeOf((*yaml.Unmarshaler)(nil)).Elem()

// checkKnown reports every mapping key with no field of t, with its path
// and line. At the top level (lenient) unknown keys are the daemon's.
func checkKnown(n *yaml.Node, t reflect.Type, p path, lenient bool) []error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if reflect.PointerTo(t).Implements(unmarshalerType) {
		return nil
	}
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	var errs []error
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return nil // the decoder reports the type error
		}
		fields := map[string]reflect.Type{}
		var names []string
		for i := 0; i < t.NumField(); i++ {
			sf := t.Field(i)
			name, _, _ := strings.Cut(sf.Tag.Get("yaml"), ",")
			if name == "" || name == "-" || !sf.IsExported() {
				continue
			}
			fields[name] = sf.Type
			names = append(names, name)
		}
		sort.Strings(names)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				if lenient {
					continue
				}
				e := p.key(k.Value).errorf("unknown field; known fields here: %s", strings.Join(names, ", "))
				e.Line = k.Line
				errs = append(errs, e)
				continue
			}
			errs = append(errs, checkKnown(v, ft, p.key(k.Value), false)...)
		}
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			return nil
		}
		for i, c := range n.Content {
			errs = append(errs, checkKnown(c, t.Elem(), p.index(i), false)...)
		}
	case reflect.Map:
		if n.Kind != yaml.MappingNode {
			return nil
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			errs = append(errs, checkKnown(n.Content[i+1], t.Elem(), p.key(n.Content[i].Value), false)...)
		}
	}
	return errs
}

// setLines fills the Line of every FieldError in err from the YAML tree.
func setLines(root *yaml.Node, err error) {
	if root == nil {
		return
	}
	var visit func(error)
	visit = func(e error) {
		var fe *FieldError
		if errors.As(e, &fe) && fe.Line == 0 {
			fe.Line = lineOf(root, fe.segs)
		}
		if j, ok := e.(interface{ Unwrap() []error }); ok {
			for _, x := range j.Unwrap() {
				visit(x)
			}
		}
	}
	visit(err)
}

// lineOf returns the line of the deepest node on p that exists.
func lineOf(n *yaml.Node, p path) int {
	line := n.Line
	for _, s := range p {
		if n.Kind == yaml.AliasNode && n.Alias != nil {
			n = n.Alias
		}
		var next *yaml.Node
		switch v := s.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == v {
					line = n.Content[i].Line
					next = n.Content[i+1]
					break
				}
			}
		case int:
			if n.Kind == yaml.SequenceNode && v < len(n.Content) {
				next = n.Content[v]
				line = next.Line
			}
		}
		if next == nil {
			return line
		}
		n = next
	}
	return line
}
