// Package helm holds the Helm charts of Tollgate (tollgate-agent, the
// database agent the guide installs with `helm install … --set roles=db`,
// and tollgate-control) and their tests: `helm lint`, `helm template` with
// the guide's values, the rendered manifests validated by kubeconform
// against the Kubernetes JSON schemas, and the rendered tollgate.yaml read
// by Tollgate's own config parser. Helm and kubeconform are built from
// their Go modules, and the schemas converted from the Kubernetes module's
// OpenAPI document, so the tests need the module proxy and nothing else.
package helm
