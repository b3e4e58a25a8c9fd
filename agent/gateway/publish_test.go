package gateway

import "testing"

func TestSessionOf(t *testing.T) {
	for subject, want := range map[string]string{
		"tollgate.audit.db.user.s1.query": "s1",
		"tollgate.audit.db.user.s1":       "",
		"tollgate.audit.db.user.s1.q.x":   "",
		"":                                "",
		"a.b.c.d..f":                      "",
	} {
		if got := sessionOf(subject); got != want {
			t.Errorf("sessionOf(%q) = %q, want %q", subject, got, want)
		}
	}
	if n := testing.AllocsPerRun(100, func() { _ = sessionOf("tollgate.audit.db.user.s1.query") }); n != 0 {
		t.Errorf("sessionOf allocates %v times", n)
	}
}
