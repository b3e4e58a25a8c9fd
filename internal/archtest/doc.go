// Package archtest holds the test that the packages' dependencies point
// the way docs/ARCHITECTURE.md draws them.
package archtest
