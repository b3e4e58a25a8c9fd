package eventlog

// SubjectMatch reports whether subject matches the NATS subject pattern:
// tokens are separated by '.', '*' matches exactly one token and '>' (only as
// the last token) matches one or more remaining tokens. A pattern without
// wildcards matches only the identical subject.
func SubjectMatch(pattern, subject string) bool {
	for {
		pt, prest, pmore := cutToken(pattern)
		st, srest, smore := cutToken(subject)
		if pt == ">" && !pmore {
			return st != ""
		}
		if st == "" {
			return false
		}
		if pt != "*" && pt != st {
			return false
		}
		if !pmore || !smore {
			return pmore == smore
		}
		pattern, subject = prest, srest
	}
}

// SubjectsMatch reports whether subject matches any of patterns; no patterns
// match everything.
func SubjectsMatch(patterns []string, subject string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if SubjectMatch(p, subject) {
			return true
		}
	}
	return false
}

func cutToken(s string) (tok, rest string, more bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '.' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}
