package wire

import (
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// Route is where one call of control's API is served: an HTTP method, a
// path pattern in net/http.ServeMux's syntax ({name} stands for one
// escaped path segment), and whether the call needs no client
// certificate.
type Route struct {
	Method  string
	Pattern string
	Open    bool
}

// String is the ServeMux pattern of r, e.g. "POST /v1/users".
func (r Route) String() string { return r.Method + " " + r.Pattern }

// Wildcards are the names of the pattern's {name} segments, in order.
func (r Route) Wildcards() []string {
	var out []string
	for _, m := range wildcard.FindAllStringSubmatch(r.Pattern, -1) {
		out = append(out, m[1])
	}
	return out
}

var wildcard = regexp.MustCompile(`\{([a-z_]+)\}`)

// Call is one call of control's API, defined once (calls.go): control/api
// mounts it on a service method, control/client calls through it. Req is
// what the caller sends and Resp what it gets back; how a Req travels
// (path, query, JSON body) is request.go's rules, and a Resp of None is
// answered 204 No Content.
type Call[Req, Resp any] struct {
	Route
	req *shape
}

// NoContent says that the call answers nothing (Resp is None).
func (c Call[Req, Resp]) NoContent() bool { return reflect.TypeFor[Resp]() == reflect.TypeFor[None]() }

// None is the request of a call that sends nothing and the answer of one
// that answers nothing (204).
type None struct{}

// routes are every Call made, in the order calls.go defines them. It is
// written only while the package initializes.
var routes []Route

// Routes lists every call of the API.
func Routes() []Route { return slices.Clone(routes) }

// open and authed define a call: route is its ServeMux pattern. They
// panic when Req does not fit the pattern (request.go), which every test
// of a package importing wire finds at once.
func open[Req, Resp any](route string) Call[Req, Resp] { return define[Req, Resp](route, true) }

func authed[Req, Resp any](route string) Call[Req, Resp] { return define[Req, Resp](route, false) }

func define[Req, Resp any](route string, isOpen bool) Call[Req, Resp] {
	method, pattern, ok := strings.Cut(route, " ")
	if !ok {
		panic("wire: call " + route + " has no method")
	}
	r := Route{Method: method, Pattern: pattern, Open: isOpen}
	sh, err := shapeOf(reflect.TypeFor[Req](), r)
	if err != nil {
		panic(fmt.Sprintf("wire: call %s: %v", r, err))
	}
	routes = append(routes, r)
	return Call[Req, Resp]{Route: r, req: sh}
}
