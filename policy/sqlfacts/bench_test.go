//go:build cgo

package sqlfacts

import (
	"strconv"
	"testing"

	pg_query "github.com/pganalyze/pg_query_go/v6"
)

// benchSQL is a realistic statement of about 200 bytes: a join, a
// filter, a function, an ORDER BY and a LIMIT.
const benchSQL = `SELECT p.id, p.amount, lower(c.email) AS email, p.created_at FROM billing.payments p ` +
	`JOIN customers c ON c.id = p.customer_id WHERE p.status = $1 AND p.created_at > now() - interval '1 day' ` +
	`ORDER BY p.created_at DESC LIMIT 50`

func BenchmarkParseUncached(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchSQL)))
	for b.Loop() {
		if f := Parse(benchSQL); f.Unparseable != "" {
			b.Fatal(f.Unparseable)
		}
	}
}

// BenchmarkParserOnly is pg_query's part of BenchmarkParseUncached: the
// C parser and the protobuf decoding, without this package's walk.
func BenchmarkParserOnly(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pg_query.Parse(benchSQL); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkFactsCached(b *testing.B) {
	c := NewCache(1000, 1<<20)
	c.Facts(benchSQL)
	b.ReportAllocs()
	for b.Loop() {
		if f := c.Facts(benchSQL); f.Unparseable != "" {
			b.Fatal(f.Unparseable)
		}
	}
}

// BenchmarkWalk is this package's part of BenchmarkParseUncached: reading
// an already parsed tree into Facts.
func BenchmarkWalk(b *testing.B) {
	tree, err := pg_query.Parse(benchSQL)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		facts(tree)
	}
}

// BenchmarkFactsShapeHit: a text with a value written in it (pgbench's
// simple protocol), a new value every time, found by its shape.
func BenchmarkFactsShapeHit(b *testing.B) {
	c := NewCache(1024, 1<<20)
	texts := make([]string, 1000)
	for i := range texts {
		texts[i] = "SELECT abalance FROM pgbench_accounts WHERE aid = " + strconv.Itoa(100000+i*7919)
	}
	c.Facts(texts[0])
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c.Facts(texts[i%len(texts)])
	}
}
