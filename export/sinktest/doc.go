// Package sinktest is the conformance suite every export.Sink runs: a
// batch is accepted whole, a batch delivered twice loses nothing, a
// 1 MiB document passes, an empty batch is a no-op, and Close works. Its
// Validate runs a sink package's settings through export.Config.Validate.
package sinktest
