// Package projections folds control events into State: users, roles, join
// tokens, locks, CAs, databases and agents. Apply is pure: no clock, no
// randomness, no I/O, no package-level mutable state; time comes from the
// event. Replaying the same log yields byte-identical state (MarshalJSON is
// canonical), and a Snapshot plus the tail yields the state of a full replay.
package projections
