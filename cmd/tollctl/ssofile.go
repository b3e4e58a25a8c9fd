package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"gopkg.in/yaml.v3"

	"github.com/tollgate-db/tollgate/control/wire"
	"github.com/tollgate-db/tollgate/schemas"
)

// parseConnector reads a Teleport-shaped OIDC connector file:
//
//	kind: oidc
//	version: v3
//	metadata: {name: corp}
//	spec: {issuer_url, client_id, client_secret, scopes, username_claim,
//	       claims_to_roles: [{claim, value, roles}], traits, ca_file}
//
// A relative ca_file is read from the file's directory.
func parseConnector(file string, raw []byte) (wire.SSOConnector, error) {
	w := walker{file: file}
	var doc yaml.Node
	if err := yaml.NewDecoder(bytes.NewReader(raw)).Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return wire.SSOConnector{}, fmt.Errorf("%s: empty file; expected kind: oidc", file)
		}
		return wire.SSOConnector{}, fmt.Errorf("%s: %w", file, err)
	}
	var (
		c                 wire.SSOConnector
		kind, version, ca string
		caNode            *yaml.Node
	)
	spec := map[string]func(*yaml.Node, string) error{
		"issuer_url":     w.str(&c.IssuerURL),
		"client_id":      w.str(&c.ClientID),
		"client_secret":  w.str(&c.ClientSecret),
		"scopes":         w.strs(&c.Scopes),
		"scope":          w.strs(&c.Scopes), // Teleport's spelling
		"username_claim": w.str(&c.UsernameClaim),
		"traits":         w.labels(&c.Traits),
		"ca_file": func(n *yaml.Node, path string) error {
			caNode = n
			return w.str(&ca)(n, path)
		},
		"claims_to_roles": func(n *yaml.Node, path string) error {
			if n.Kind != yaml.SequenceNode {
				return w.fail(n, path, "expected a list like [{claim: groups, value: dba, roles: [access]}]")
			}
			for i, e := range n.Content {
				var m schemas.ClaimMapping
				p := fmt.Sprintf("%s[%d]", path, i)
				if err := w.fields(e, p, map[string]func(*yaml.Node, string) error{
					"claim": w.str(&m.Claim), "value": w.str(&m.Value), "roles": w.strs(&m.Roles),
				}); err != nil {
					return err
				}
				if m.Claim == "" || m.Value == "" || len(m.Roles) == 0 {
					return w.fail(e, p, "a mapping needs claim, value (\"*\" for any) and roles")
				}
				c.ClaimsToRoles = append(c.ClaimsToRoles, m)
			}
			return nil
		},
	}
	root := doc.Content[0]
	err := w.fields(root, "", map[string]func(*yaml.Node, string) error{
		"kind":    w.str(&kind),
		"version": w.str(&version),
		"metadata": func(n *yaml.Node, path string) error {
			var desc string
			return w.fields(n, path, map[string]func(*yaml.Node, string) error{"name": w.str(&c.Name), "description": w.str(&desc)})
		},
		"spec": func(n *yaml.Node, path string) error { return w.fields(n, path, spec) },
	})
	if err != nil {
		return wire.SSOConnector{}, err
	}
	if kind != schemas.ConnectorOIDC {
		return wire.SSOConnector{}, fmt.Errorf("%s: kind is %q; expected kind: oidc", file, kind)
	}
	if c.Name == "" {
		return wire.SSOConnector{}, fmt.Errorf("%s: metadata.name is required", file)
	}
	if ca != "" {
		if !filepath.IsAbs(ca) && file != "-" {
			ca = filepath.Join(filepath.Dir(file), ca)
		}
		b, err := os.ReadFile(ca)
		if err != nil {
			return wire.SSOConnector{}, w.fail(caNode, "spec.ca_file", "%v", err)
		}
		c.CAPEM = string(b)
	}
	return c, nil
}
