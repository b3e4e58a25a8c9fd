// Package devprof writes Go runtime profiles of a whole daemon run, for
// performance work: `tollgate start` calls Start when the environment
// names a directory in TOLLGATE_PROFILE_DIR (tollbench --pprof does, for
// the agent and control it starts). It is off unless asked for.
package devprof
