//go:build !cgo

package sqlfacts

import "testing"

// TestParserIsBuilt: without cgo there is no parser, and this package's
// tests cannot run: fail, saying what to install, rather than pass empty.
func TestParserIsBuilt(t *testing.T) {
	t.Fatal("policy/sqlfacts needs cgo (PostgreSQL's parser through pg_query_go): apt-get install -y gcc libc6-dev, and build with CGO_ENABLED=1")
}
