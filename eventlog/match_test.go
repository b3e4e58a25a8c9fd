package eventlog

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestSubjectMatch(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, subject string
		want             bool
	}{
		{"a.b.c", "a.b.c", true},
		{"a.b.c", "a.b", false},
		{"a.b", "a.b.c", false},
		{"a.b.c", "a.b.d", false},
		{"a.*.c", "a.b.c", true},
		{"a.*.c", "a.b.d", false},
		{"a.*", "a.b.c", false},
		{"*", "a", true},
		{"*", "a.b", false},
		{"*.*", "a.b", true},
		{"a.>", "a.b", true},
		{"a.>", "a.b.c.d", true},
		{"a.>", "a", false},
		{">", "a", true},
		{">", "a.b.c", true},
		{"a.*.>", "a.b.c", true},
		{"a.*.>", "a.b", false},
		{"tollgate.audit.*.alice.*.*", "tollgate.audit.roach.alice.s1.query", true},
		{"tollgate.audit.*.alice.*.*", "tollgate.audit.roach.bob.s1.query", false},
		{"tollgate.control.>", "tollgate.audit.x", false},
		{"ab", "abc", false},
		{"abc", "ab", false},
		{"a.b", "", false},
		{"a.>.c", "a.b.c", false}, // '>' only as last token
	}
	for _, tt := range tests {
		require.Equal(t, tt.want, SubjectMatch(tt.pattern, tt.subject), "%q ~ %q", tt.pattern, tt.subject)
	}
	require.True(t, SubjectsMatch(nil, "x"))
	require.True(t, SubjectsMatch([]string{"y", "x"}, "x"))
	require.False(t, SubjectsMatch([]string{"y"}, "x"))
}
