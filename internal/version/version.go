// Package version is Tollgate's version, one constant every binary and
// package reads (control reports it, agents send it when they join or
// renew).
package version

// Version is this build's Tollgate version.
const Version = "0.1.0-dev"
