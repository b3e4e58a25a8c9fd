// Package replaytests holds recorded control event logs (JSON lines of
// eventlog.Event under testdata/) and the state each must yield
// (testdata/<name>.golden.json), replayed through every eventlog.Stream
// implementation; a table of access decisions evaluated at points of a
// log; a randomized snapshot-plus-tail test; and the projection rebuild
// benchmark. Run `go test ./replay-tests -update` to rewrite the golden
// files and `go test ./replay-tests -regen` to rewrite the logs from
// scenarios_test.go.
package replaytests
