package policy

import "time"

// Report is what `tollctl policy simulate` says: the recorded queries a
// proposed role would have refused, had it been enforced.
type Report struct {
	Role  string    `json:"role"`
	Since time.Time `json:"since"`
	Until time.Time `json:"until"`
	// Sessions and Queries count what was judged.
	Sessions int `json:"sessions"`
	Queries  int `json:"queries"`
	// Denied counts the queries that would have been refused; Matches
	// lists them (the first MaxMatches; Truncated when there were more).
	Denied    int          `json:"denied"`
	Matches   []SimMatch   `json:"matches"`
	Truncated bool         `json:"truncated,omitempty"`
	ByUser    []Count      `json:"by_user"`
	ByRule    []Count      `json:"by_rule"`
	Skipped   []SimSkipped `json:"skipped,omitempty"`
}

// MaxMatches bounds the matches a Report lists (counts stay complete).
const MaxMatches = 1000

// SimMatch is one recorded query the proposed rules would have refused.
type SimMatch struct {
	Time      time.Time `json:"time"`
	User      string    `json:"user"`
	Database  string    `json:"database"`
	Session   string    `json:"session"`
	N         uint64    `json:"n"`
	Role      string    `json:"role"`
	Rule      string    `json:"rule,omitempty"`
	Action    string    `json:"action"`
	Statement int       `json:"statement"`
	Reason    string    `json:"reason"`
	// Text is the query's statement text, cut to 200 characters.
	Text string `json:"text"`
}

// Count is a number of refused queries by a key (a user, "role/rule").
type Count struct {
	Key   string `json:"key"`
	Count int    `json:"count"`
}

// SimSkipped is a session the simulation could not judge, and why.
type SimSkipped struct {
	Session string `json:"session"`
	Reason  string `json:"reason"`
}
