package wire

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"
)

// How a call's request travels, by its type (checked when the call is
// defined):
//
//   - None: nothing.
//   - string: the value of the pattern's one wildcard (DELETE /v1/users/{name}).
//   - a struct with fields tagged path:"name" or query:"name": each such
//     field is that wildcard (a string) or query parameter, and the field
//     tagged body:"json", if there is one, is the JSON body.
//   - any other type: the JSON body (POST and PUT only).
//
// A query parameter is a string, a bool ("true", or absent for false), an
// int, a uint64 or a time.Time (RFC 3339 with nanoseconds, UTC); a zero
// value is not sent, and an absent parameter leaves the field zero.
type shape struct {
	kind   shapeKind
	params []param // shapeFields
	body   int     // shapeFields: index of the body field, or -1
}

type shapeKind int

const (
	shapeNone shapeKind = iota
	shapeWildcard
	shapeBody
	shapeFields
)

type param struct {
	index int
	name  string
	query bool // else a path wildcard
}

var timeType = reflect.TypeFor[time.Time]()

func shapeOf(t reflect.Type, r Route) (*shape, error) {
	wild := r.Wildcards()
	hasBody := r.Method == http.MethodPost || r.Method == http.MethodPut
	switch {
	case t == reflect.TypeFor[None]():
		return &shape{kind: shapeNone}, needWildcards(wild, nil)
	case t.Kind() == reflect.String:
		if len(wild) != 1 {
			return nil, fmt.Errorf("a string request is the one wildcard, and the pattern has %d", len(wild))
		}
		return &shape{kind: shapeWildcard}, nil
	case t.Kind() == reflect.Struct && tagged(t):
		return fieldsShape(t, wild, hasBody)
	case !hasBody:
		return nil, fmt.Errorf("%s sends no body, and %s is no path or query request", r.Method, t)
	}
	return &shape{kind: shapeBody}, needWildcards(wild, nil)
}

func tagged(t reflect.Type) bool {
	for f := range t.Fields() {
		if _, ok := f.Tag.Lookup("path"); ok {
			return true
		}
		if _, ok := f.Tag.Lookup("query"); ok {
			return true
		}
	}
	return false
}

func fieldsShape(t reflect.Type, wild []string, hasBody bool) (*shape, error) {
	sh := &shape{kind: shapeFields, body: -1}
	var paths []string
	for i := range t.NumField() {
		f := t.Field(i)
		if name, ok := f.Tag.Lookup("path"); ok {
			if f.Type.Kind() != reflect.String {
				return nil, fmt.Errorf("path field %s is not a string", f.Name)
			}
			sh.params = append(sh.params, param{index: i, name: name})
			paths = append(paths, name)
		} else if name, ok := f.Tag.Lookup("query"); ok {
			if !queryType(f.Type) {
				return nil, fmt.Errorf("query field %s is a %s", f.Name, f.Type)
			}
			sh.params = append(sh.params, param{index: i, name: name, query: true})
		} else if f.Tag.Get("body") == "json" {
			if !hasBody || sh.body >= 0 {
				return nil, fmt.Errorf("body field %s: a POST or PUT has one body", f.Name)
			}
			sh.body = i
		}
	}
	return sh, needWildcards(wild, paths)
}

func queryType(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Uint64:
		return true
	}
	return t == timeType
}

func needWildcards(wild, fields []string) error {
	a, b := slices.Sorted(slices.Values(wild)), slices.Sorted(slices.Values(fields))
	if !slices.Equal(a, b) {
		return fmt.Errorf("the pattern's wildcards %v are not the request's path fields %v", wild, fields)
	}
	return nil
}

// Target is the path (wildcards filled in, escaped) and query req is
// sent to.
func (c Call[Req, Resp]) Target(req Req) string {
	v := reflect.ValueOf(req)
	path, query := c.Pattern, url.Values{}
	switch c.req.kind {
	case shapeWildcard:
		path = fill(path, c.Wildcards()[0], v.String())
	case shapeFields:
		for _, p := range c.req.params {
			f := v.Field(p.index)
			if !p.query {
				path = fill(path, p.name, f.String())
			} else if s, ok := formatQuery(f); ok {
				query.Set(p.name, s)
			}
		}
	}
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return path
}

func fill(pattern, name, value string) string {
	return strings.Replace(pattern, "{"+name+"}", url.PathEscape(value), 1)
}

func formatQuery(f reflect.Value) (string, bool) {
	if f.IsZero() {
		return "", false
	}
	if f.Type() == timeType {
		return f.Interface().(time.Time).UTC().Format(time.RFC3339Nano), true
	}
	switch f.Kind() {
	case reflect.Bool:
		return "true", true
	case reflect.Int:
		return strconv.FormatInt(f.Int(), 10), true
	case reflect.Uint64:
		return strconv.FormatUint(f.Uint(), 10), true
	}
	return f.String(), true
}

// Body is req's JSON body, and whether the call sends one.
func (c Call[Req, Resp]) Body(req Req) (any, bool) {
	switch {
	case c.req.kind == shapeBody:
		return req, true
	case c.req.kind == shapeFields && c.req.body >= 0:
		return reflect.ValueOf(req).Field(c.req.body).Interface(), true
	}
	return nil, false
}

// QueryError is a query parameter that does not parse as its field.
type QueryError struct{ Name, Value string }

func (e *QueryError) Error() string {
	return "query parameter " + e.Name + "=" + e.Value + " is not valid"
}

// Decode is the server's half of Target and Body: the request from the
// path values, the query and the JSON body (decodeBody decodes it into
// its argument, a pointer) of an incoming request. It fails on the first
// query parameter that does not parse (*QueryError) or on decodeBody's
// error.
func (c Call[Req, Resp]) Decode(pathValue func(name string) string, query url.Values, decodeBody func(any) error) (Req, error) {
	var req Req
	v := reflect.ValueOf(&req).Elem()
	switch c.req.kind {
	case shapeWildcard:
		v.SetString(pathValue(c.Wildcards()[0]))
	case shapeBody:
		return req, decodeBody(&req)
	case shapeFields:
		for _, p := range c.req.params {
			f := v.Field(p.index)
			if !p.query {
				f.SetString(pathValue(p.name))
			} else if s := query.Get(p.name); s != "" {
				if err := parseQuery(f, s); err != nil {
					return req, &QueryError{Name: p.name, Value: s}
				}
			}
		}
		if c.req.body >= 0 {
			return req, decodeBody(v.Field(c.req.body).Addr().Interface())
		}
	}
	return req, nil
}

func parseQuery(f reflect.Value, s string) error {
	if f.Type() == timeType {
		t, err := time.Parse(time.RFC3339Nano, s)
		f.Set(reflect.ValueOf(t))
		return err
	}
	switch f.Kind() {
	case reflect.Bool:
		// Only "true" sets a bool, as the API always read it; anything
		// else leaves it false.
		f.SetBool(s == "true")
	case reflect.Int:
		n, err := strconv.Atoi(s)
		f.SetInt(int64(n))
		return err
	case reflect.Uint64:
		n, err := strconv.ParseUint(s, 10, 64)
		f.SetUint(n)
		return err
	default:
		f.SetString(s)
	}
	return nil
}
