// Package follow keeps a projections.State up to date from the control
// stream: the one projection follower that control and the agent both run.
//
// It is the impure part next to projections (it reads a stream, waits and
// logs), so that projections itself stays pure; internal/archtest holds the
// line. A Follower folds each record in with State.Apply under a lock,
// offers View for reads, WaitSeq for read-your-writes, Ready for "caught up
// with the stream as it was at start", an OnApply hook, and one of two
// policies on a Follow error: stop for good (control: WaitSeq then fails at
// once) or retry with backoff from the last applied sequence (the agent,
// which serves from its last state meanwhile).
package follow
