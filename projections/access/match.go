package access

import (
	"regexp"
	"strings"
)

// Trait names expanded by the templates of db_users and db_names.
const (
	TraitDBUsers = "db_users"
	TraitDBNames = "db_names"
)

// Wildcard matches anything.
const Wildcard = "*"

// expand turns matcher values into literal values, wildcards and regexes:
// "{{internal.db_users}}" becomes the identity's db_users trait values (and
// likewise for any "{{internal.<trait>}}"); a template naming an absent
// trait expands to nothing. Other values pass unchanged.
func expand(values []string, traits map[string][]string) []string {
	var out []string
	for _, v := range values {
		if name, ok := templateTrait(v); ok {
			out = append(out, traits[name]...)
			continue
		}
		if strings.HasPrefix(strings.TrimSpace(v), "{{") {
			continue // an unknown template matches nothing
		}
		out = append(out, v)
	}
	return out
}

// templateTrait parses "{{internal.NAME}}" (spaces allowed inside braces).
func templateTrait(v string) (string, bool) {
	v = strings.TrimSpace(v)
	if !strings.HasPrefix(v, "{{") || !strings.HasSuffix(v, "}}") {
		return "", false
	}
	inner := strings.TrimSpace(v[2 : len(v)-2])
	name, ok := strings.CutPrefix(inner, "internal.")
	if !ok || name == "" {
		return "", false
	}
	return name, true
}

// isRegex tells whether a matcher value is a regular expression: "^…$".
func isRegex(v string) bool {
	return len(v) >= 2 && v[0] == '^' && v[len(v)-1] == '$'
}

// matchValue matches one value against one pattern: "*", a "^…$" regex, or
// a literal. An invalid regex matches nothing.
func matchValue(pattern, value string) bool {
	switch {
	case pattern == Wildcard:
		return true
	case isRegex(pattern):
		re, err := regexp.Compile(pattern)
		return err == nil && re.MatchString(value)
	default:
		return pattern == value
	}
}

// matchAny tells whether value matches one of patterns, and which.
func matchAny(patterns []string, value string) (string, bool) {
	for _, p := range patterns {
		if matchValue(p, value) {
			return p, true
		}
	}
	return "", false
}

// matchLabels applies a db_labels selector to a database's labels, as
// Teleport does: an empty selector matches nothing; `*: [*]` matches every
// database; otherwise every key of the selector must be a label of the
// database whose value matches one of the key's values ("*", "^…$" or a
// literal). Label values may be trait templates.
func matchLabels(selector map[string][]string, labels map[string]string, traits map[string][]string) bool {
	if len(selector) == 0 {
		return false
	}
	for key, values := range selector {
		values = expand(values, traits)
		if key == Wildcard {
			// Only `*: [*]` is meaningful with a wildcard key.
			if containsWildcard(values) {
				continue
			}
			return false
		}
		got, ok := labels[key]
		if !ok {
			return false
		}
		if _, ok := matchAny(values, got); !ok {
			return false
		}
	}
	return true
}

func containsWildcard(values []string) bool {
	for _, v := range values {
		if v == Wildcard {
			return true
		}
	}
	return false
}
