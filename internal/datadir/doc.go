// Package datadir names the default data dir (Default, Env) and guards a
// data dir against a second process: Lock takes
// an exclusive flock(2) on <data_dir>/tollgate.lock and writes the holder's
// PID into it. The kernel releases the lock when the holder exits, however
// it exits (a crash or SIGKILL included), so a stale lock file never blocks
// the next start.
package datadir
