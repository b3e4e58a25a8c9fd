package schemas

import "fmt"

// TB is the part of testing.TB that OverrideVersion uses.
type TB interface {
	Helper()
	Cleanup(func())
	Fatalf(format string, args ...any)
}

// OverrideVersion is for tests of the consumers of event data (export
// formats, auditquery, …): until t ends, typ is at version v, with the same
// Go type, and ups are its upcasters. An event written at an older version
// then reaches the consumer only through the upcasters, as it would after a
// real schema change, so a consumer that bypasses Decode (a plain
// json.Unmarshal of the data) is caught. Producers' Marshal stamps v
// meanwhile; NewValidator needs v's schema file, which does not exist.
//
// It changes what every Decode in the process sees: a test calling it must
// not run in parallel with others that decode events.
func OverrideVersion(t TB, typ string, v int, ups ...Upcaster) {
	t.Helper()
	base := defaultRegistry()
	infos := make([]Info, 0, len(base.sorted))
	found := false
	for _, in := range base.sorted {
		if in.Type == typ {
			found = true
			if v <= in.Version {
				t.Fatalf("schemas.OverrideVersion: %s is at v%d already; override to a newer version", typ, in.Version)
			}
			in.Version = v
		}
		infos = append(infos, in)
	}
	if !found {
		t.Fatalf("schemas.OverrideVersion: %s", fmt.Errorf("%q: %w", typ, ErrUnknownType))
	}
	all := make([]Upcaster, 0, len(base.upcasters)+len(ups))
	for _, u := range base.upcasters {
		all = append(all, u)
	}
	all = append(all, ups...)
	if !active.CompareAndSwap(base, newRegistry(base.fsys, infos, all)) {
		t.Fatalf("schemas.OverrideVersion: another override is in force (tests calling it must not run in parallel)")
	}
	t.Cleanup(func() { active.Store(base) })
}
