// Package access makes access decisions from a projections.State: may this
// identity reach this database as this db user and db name now, and may it
// perform this admin verb on this resource. Decisions are pure functions of
// the state and the time passed in.
package access
