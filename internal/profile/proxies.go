package profile

import (
	"encoding/json"
	"strings"
)

// meta is the stored form of a Profile (profile.json).
type meta struct {
	Proxy   string   `json:"proxy"`
	Proxies []string `json:"proxies,omitempty"`
	*alias
}

// alias is Profile without its methods, so that meta's JSON encoding does
// not recurse into Profile's.
type alias Profile

// MarshalJSON stores Proxy as "proxy" (its first address) and, when it
// names several, "proxies" (all of them, in order).
func (p *Profile) MarshalJSON() ([]byte, error) {
	m := meta{alias: (*alias)(p)}
	for _, a := range strings.Split(p.Proxy, ",") {
		if a = strings.TrimSpace(a); a != "" {
			m.Proxies = append(m.Proxies, a)
		}
	}
	if len(m.Proxies) > 0 {
		m.Proxy = m.Proxies[0]
	}
	if len(m.Proxies) < 2 {
		m.Proxies = nil
	}
	return json.Marshal(m)
}

// UnmarshalJSON reads "proxies" when present, else the one "proxy" of a
// profile written before there could be several.
func (p *Profile) UnmarshalJSON(b []byte) error {
	m := meta{alias: (*alias)(p)}
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	p.Proxy = m.Proxy
	if len(m.Proxies) > 0 {
		p.Proxy = strings.Join(m.Proxies, ",")
	}
	return nil
}
