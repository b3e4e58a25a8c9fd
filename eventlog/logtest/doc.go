// Package logtest is the conformance suite for eventlog.Stream. Every
// implementation runs it:
//
//	logtest.Run(t, func(t *testing.T, name string) eventlog.Stream { ... })
//
// The factory must return a new, empty stream for each call, named name and
// accepting every subject under tollgate.control.> (the suite always asks for
// eventlog.ControlStream and uses control subjects). It must allow events of
// eventlog.DefaultMaxEventSize and refuse larger ones, and refuse deletes
// and purges (Info says so).
package logtest
