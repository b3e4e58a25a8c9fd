package projections

import "slices"

// Selector selects registered databases by labels (an agent's
// db_service.resources): every key must be present with one of the listed
// values; "*" matches any key or value.
type Selector map[string][]string

// Matches reports whether labels satisfy every key of s. An empty selector
// matches nothing.
func (s Selector) Matches(labels map[string]string) bool {
	if len(s) == 0 {
		return false
	}
	for k, want := range s {
		if k == "*" {
			if !anyMatches(want, labels) {
				return false
			}
			continue
		}
		v, ok := labels[k]
		if !ok || !(slices.Contains(want, "*") || slices.Contains(want, v)) {
			return false
		}
	}
	return true
}

// anyMatches: "*" as key takes any label whose value is wanted.
func anyMatches(want []string, labels map[string]string) bool {
	if slices.Contains(want, "*") {
		return true
	}
	for _, v := range labels {
		if slices.Contains(want, v) {
			return true
		}
	}
	return false
}
