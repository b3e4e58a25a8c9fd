//go:build !cgo

package sqlfacts

import "github.com/tollgate-db/tollgate/policy"

// MaxText is the longest text Parse reads.
const MaxText = 1 << 20

// Parse, in a build without cgo (CGO_ENABLED=0), has no SQL parser: every
// text is Unparseable, so a role with statement rules refuses every
// statement unless it says unparseable: allow — statement rules fail
// closed, never open. Build with cgo (a C compiler) to judge statements.
func Parse(string) policy.Facts {
	return policy.Facts{Unparseable: "this Tollgate was built without the SQL parser (CGO_ENABLED=0): statements cannot be judged"}
}
