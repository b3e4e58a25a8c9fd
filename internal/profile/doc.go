// Package profile stores a Tollgate identity on disk: the control addresses,
// the user name, the user cert and key, and the trusted host CA certs that
// pin the cluster. `toll` keeps one under TOLLGATE_HOME (default
// ~/.tollgate); `tollgate start` writes the local admin identity under
// <data-dir>/admin. Every file is written 0600 in a 0700 directory.
//
// It stands on its own (the standard library only): control writes the
// local admin identity with it, and control/client and the CLIs read it,
// so neither side imports the other for it.
package profile
