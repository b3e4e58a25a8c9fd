package policy

import (
	"path"
	"strings"
)

// glob is a lower-case shell pattern ("*", "?", "[…]") matched
// case-insensitively.
type glob string

func compileGlob(p string) (glob, error) {
	g := strings.ToLower(p)
	if _, err := path.Match(g, ""); err != nil {
		return "", err
	}
	return glob(g), nil
}

func (g glob) match(s string) bool {
	ok, _ := path.Match(string(g), strings.ToLower(s))
	return ok
}

// tableGlob matches relations: "name" in any schema, "schema.name" in that
// schema or unqualified (the server picks the schema by search_path, so an
// unqualified name may be that relation).
type tableGlob struct {
	schema glob // "" when the pattern names no schema
	name   glob
}

func compileTable(p string) (tableGlob, error) {
	s, n, qualified := strings.Cut(p, ".")
	if !qualified {
		g, err := compileGlob(p)
		return tableGlob{name: g}, err
	}
	if s == "" || n == "" || strings.Contains(n, ".") {
		return tableGlob{}, errTablePattern
	}
	sg, err := compileGlob(s)
	if err != nil {
		return tableGlob{}, err
	}
	ng, err := compileGlob(n)
	return tableGlob{schema: sg, name: ng}, err
}

// match is a deny rule's reading: an unqualified name may be any schema's
// relation, so a qualified pattern matches it.
func (g tableGlob) match(t Table) bool {
	if !g.name.match(t.Name) {
		return false
	}
	return g.schema == "" || t.Schema == "" || g.schema.match(t.Schema)
}

// covers is an allow rule's reading: a qualified pattern covers only names
// written with a schema it matches ("*" covers unqualified names too): an
// unqualified name resolves by search_path, which the session may set to
// any schema.
func (g tableGlob) covers(t Table) bool {
	if !g.name.match(t.Name) {
		return false
	}
	if g.schema == "" || g.schema == "*" {
		return true
	}
	return t.Schema != "" && g.schema.match(t.Schema)
}

// funcGlob matches a function as called: the whole qualified name or its
// last part ("set_config" matches pg_catalog.set_config).
func funcMatch(g glob, name string) bool {
	if g.match(name) {
		return true
	}
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		return g.match(name[i+1:])
	}
	return false
}
