package sso

import (
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"

	"github.com/tollgate-db/tollgate/schemas"
)

// ErrNoRoles is a login whose claims match no claims_to_roles mapping.
var ErrNoRoles = errors.New("the provider's claims map to no role")

// ErrUnverifiedEmail is a login named by an email the provider says it
// has not verified (email_verified false): anyone could claim it.
var ErrUnverifiedEmail = errors.New("the provider has not verified the email")

// ErrNoUsername is a login without the connector's username claim.
var ErrNoUsername = errors.New("the provider sent no user name claim")

// Claims are a login's claims: the ID token's, with the userinfo's over
// them.
type Claims map[string]any

// Identity is the Tollgate user a login maps to.
type Identity struct {
	User   string              `json:"user"`
	Roles  []string            `json:"roles"`
	Traits map[string][]string `json:"traits,omitempty"`
}

// values returns the claim's values as strings: a string, each string of a
// list, a number or boolean as JSON writes it; nothing for a missing claim
// or an object.
func (c Claims) values(name string) []string {
	switch v := c[name].(type) {
	case string:
		return []string{v}
	case []any:
		var out []string
		for _, e := range v {
			if s, ok := e.(string); ok {
				out = append(out, s)
			}
		}
		return out
	case []string:
		return v
	case bool, float64:
		return []string{fmt.Sprint(v)}
	}
	return nil
}

// Map maps claims to the user conn names: its name from the username
// claim, the roles of every matching claims_to_roles entry (sorted, no
// duplicates), and its traits from conn's templates.
func Map(conn schemas.OIDCConnector, c Claims) (Identity, error) {
	uc := conn.UsernameClaim
	if uc == "" {
		uc = schemas.DefaultUsernameClaim
	}
	names := c.values(uc)
	if len(names) != 1 || names[0] == "" {
		return Identity{}, fmt.Errorf("%w %q: ask the provider's admin to release it, or set the connector's username_claim", ErrNoUsername, uc)
	}
	if uc == "email" {
		if v, ok := c["email_verified"].(bool); ok && !v {
			return Identity{}, fmt.Errorf("%w %s; verify it at the provider, or name users by another claim (username_claim)", ErrUnverifiedEmail, names[0])
		}
	}
	id := Identity{User: names[0]}
	for _, m := range conn.ClaimsToRoles {
		for _, v := range c.values(m.Claim) {
			if m.Value == "*" || v == m.Value {
				id.Roles = append(id.Roles, m.Roles...)
				break
			}
		}
	}
	if len(id.Roles) == 0 {
		return Identity{}, fmt.Errorf("%w for %s (claims_to_roles of connector %s)", ErrNoRoles, id.User, conn.Name)
	}
	sort.Strings(id.Roles)
	id.Roles = slices.Compact(id.Roles)
	for k, tmpls := range conn.Traits {
		var vals []string
		for _, t := range tmpls {
			vals = append(vals, Expand(t, c)...)
		}
		if len(vals) > 0 {
			if id.Traits == nil {
				id.Traits = map[string][]string{}
			}
			id.Traits[k] = vals
		}
	}
	return id, nil
}

// Expand expands a trait template: text with {{claim}} or {{claim.local}}
// parts (the latter: an email's part before the @). A template that is
// one {{claim}} of a list claim gives each of its values; a part whose
// claim is missing makes the template give nothing (the trait goes
// without that value rather than with a wrong one). Text without {{ is a
// literal.
func Expand(tmpl string, c Claims) []string {
	if tmpl == "" {
		return nil
	}
	if !strings.Contains(tmpl, "{{") {
		return []string{tmpl}
	}
	outs := []string{""}
	rest := tmpl
	for rest != "" {
		i := strings.Index(rest, "{{")
		if i < 0 {
			outs = appendAll(outs, []string{rest})
			break
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return nil // an unclosed {{ is no template: refused at save
		}
		lit, expr := rest[:i], strings.TrimSpace(rest[i+2:i+j])
		rest = rest[i+j+2:]
		vals := exprValues(expr, c)
		if len(vals) == 0 {
			return nil
		}
		outs = appendAll(appendAll(outs, []string{lit}), vals)
	}
	var out []string
	for _, o := range outs {
		if o != "" {
			out = append(out, o)
		}
	}
	return out
}

func exprValues(expr string, c Claims) []string {
	name, fn, _ := strings.Cut(expr, ".")
	vals := c.values(name)
	switch fn {
	case "":
		return vals
	case "local":
		var out []string
		for _, v := range vals {
			if l, _, ok := strings.Cut(v, "@"); ok && l != "" {
				out = append(out, l)
			}
		}
		return out
	}
	return nil
}

// appendAll returns every a+b.
func appendAll(as, bs []string) []string {
	out := make([]string, 0, len(as)*len(bs))
	for _, a := range as {
		for _, b := range bs {
			out = append(out, a+b)
		}
	}
	return out
}

// CheckTemplate says what is wrong with a trait template, if anything:
// an unclosed {{, an empty part, or a function other than .local.
func CheckTemplate(tmpl string) error {
	rest := tmpl
	for {
		i := strings.Index(rest, "{{")
		if i < 0 {
			if strings.Contains(rest, "}}") {
				return fmt.Errorf("template %q has }} without {{", tmpl)
			}
			return nil
		}
		j := strings.Index(rest[i:], "}}")
		if j < 0 {
			return fmt.Errorf("template %q has {{ without }}", tmpl)
		}
		expr := strings.TrimSpace(rest[i+2 : i+j])
		if expr == "" {
			return fmt.Errorf("template %q has an empty {{}}", tmpl)
		}
		if name, fn, ok := strings.Cut(expr, "."); ok && (name == "" || fn != "local") {
			return fmt.Errorf("template %q: {{%s}} is not a claim or claim.local", tmpl, expr)
		}
		rest = rest[i+j+2:]
	}
}
