package format

import (
	"testing"

	"github.com/tollgate-db/tollgate/schemas"
)

// BenchmarkFormat: go test ./export/format -run '^$' -bench Format
func BenchmarkFormat(b *testing.B) {
	s := samples()
	for _, name := range []string{"native", "ocsf", "ecs"} {
		f, _ := New(name, nil)
		for _, typ := range []string{schemas.TypeQuery, schemas.TypeQueryResult} {
			ev := s[typ]
			b.Run(name+"/"+typ, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if _, err := f.Format(&ev); err != nil {
						b.Fatal(err)
					}
				}
			})
			// Append into a reused buffer, as the subscriber does.
			b.Run(name+"/"+typ+"/append", func(b *testing.B) {
				b.ReportAllocs()
				var buf []byte
				for b.Loop() {
					var err error
					if buf, err = f.Append(buf[:0], &ev); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
