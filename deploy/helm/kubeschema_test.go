package helm

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// The schemas kubeconform validates against are made here from the
// Kubernetes module's OpenAPI (swagger 2.0) document: one standalone file
// per kind the charts render, named as kubeconform's schema location
// template DIR/{{ .ResourceKind }}{{ .KindSuffix }}.json reads it, holding
// the kind's definition and every definition it refers to. They are strict
// (an object admits only the properties it names, so a misspelt field is
// an error), and IntOrString and Quantity accept what the API server does.

const (
	intOrString = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
	quantity    = "io.k8s.apimachinery.pkg.api.resource.Quantity"
)

// openAPI is the part of swagger.json the schemas are made from.
type openAPI struct {
	Definitions map[string]map[string]any `json:"definitions"`
}

func loadOpenAPI(t *testing.T) *openAPI {
	t.Helper()
	path := filepath.Join(moduleDir(t, kubernetesModule), "api", "openapi-spec", "swagger.json")
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read the Kubernetes API: %v", err)
	}
	var doc openAPI
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse %s: %v", path, err)
	}
	doc.Definitions[intOrString] = map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "integer"}}}
	doc.Definitions[quantity] = map[string]any{"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "number"}}}
	for _, d := range doc.Definitions {
		strict(d)
	}
	return &doc
}

// strict makes every object schema in s that names its properties refuse
// others, unless it says it keeps unknown fields.
func strict(s any) {
	switch v := s.(type) {
	case map[string]any:
		_, props := v["properties"]
		_, extra := v["additionalProperties"]
		keep, _ := v["x-kubernetes-preserve-unknown-fields"].(bool)
		if props && !extra && !keep {
			v["additionalProperties"] = false
		}
		for _, c := range v {
			strict(c)
		}
	case []any:
		for _, c := range v {
			strict(c)
		}
	}
}

// kindSuffix is kubeconform's {{ .KindSuffix }} for apiVersion: -v1,
// -apps-v1, -networking-v1.
func kindSuffix(apiVersion string) string {
	group, version, ok := strings.Cut(apiVersion, "/")
	if !ok {
		return "-" + strings.ToLower(apiVersion)
	}
	first, _, _ := strings.Cut(group, ".")
	return "-" + strings.ToLower(first) + "-" + strings.ToLower(version)
}

// writeSchema writes the standalone schema of kind in apiVersion to dir.
func (doc *openAPI) writeSchema(dir, apiVersion, kind string) error {
	name, err := doc.definitionOf(apiVersion, kind)
	if err != nil {
		return err
	}
	defs := map[string]any{}
	doc.closure(name, defs)
	schema := map[string]any{"$ref": "#/definitions/" + name, "definitions": defs}
	raw, err := json.Marshal(schema)
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, strings.ToLower(kind)+kindSuffix(apiVersion)+".json"), raw, 0o644)
}

// definitionOf names the definition of kind in apiVersion.
func (doc *openAPI) definitionOf(apiVersion, kind string) (string, error) {
	group, version, ok := strings.Cut(apiVersion, "/")
	if !ok {
		group, version = "", apiVersion
	}
	names := make([]string, 0, len(doc.Definitions))
	for n := range doc.Definitions {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		gvks, _ := doc.Definitions[n]["x-kubernetes-group-version-kind"].([]any)
		for _, g := range gvks {
			m, _ := g.(map[string]any)
			if m["group"] == group && m["version"] == version && m["kind"] == kind {
				return n, nil
			}
		}
	}
	return "", fmt.Errorf("no definition of %s %s in %s", apiVersion, kind, kubernetesModule)
}

// closure adds name and every definition it refers to, transitively, to defs.
func (doc *openAPI) closure(name string, defs map[string]any) {
	if _, ok := defs[name]; ok {
		return
	}
	d := doc.Definitions[name]
	defs[name] = d
	for _, ref := range refs(d, nil) {
		doc.closure(strings.TrimPrefix(ref, "#/definitions/"), defs)
	}
}

func refs(s any, out []string) []string {
	switch v := s.(type) {
	case map[string]any:
		if r, ok := v["$ref"].(string); ok {
			out = append(out, r)
		}
		for _, c := range v {
			out = refs(c, out)
		}
	case []any:
		for _, c := range v {
			out = refs(c, out)
		}
	}
	return out
}

func TestKindSuffixIsKubeconforms(t *testing.T) {
	for in, want := range map[string]string{"v1": "-v1", "apps/v1": "-apps-v1", "networking.k8s.io/v1": "-networking-v1", "policy/v1beta1": "-policy-v1beta1"} {
		if got := kindSuffix(in); got != want {
			t.Errorf("kindSuffix(%q) = %q, want %q", in, got, want)
		}
	}
}
