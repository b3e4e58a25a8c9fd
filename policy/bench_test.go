package policy

import (
	"testing"

	"github.com/tollgate-db/tollgate/schemas"
)

// BenchmarkJudge: the rules of one session (six deny rules and an
// allowlist) over the facts of a join: the matching alone, after the facts
// came from the cache.
func BenchmarkJudge(b *testing.B) {
	deny := []schemas.StatementRule{
		{Name: "no-unfiltered-writes", Statements: []string{"update", "delete"}, WithoutWhere: true},
		{Name: "payments-read-only", Statements: []string{"insert", "update", "delete", "truncate"}, Tables: []string{"public.payments"}},
		{Name: "no-server-files", Functions: []string{"pg_read_file", "pg_ls_dir", "lo_*"}},
		{Name: "no-role-switch", Statements: []string{"set_role"}},
		{Name: "ddl", Statements: []string{"ddl"}, Action: schemas.ActionRequireApproval, RequestRoles: []string{"dba"}},
		{Name: "watch-exports", Statements: []string{"copy"}, Action: schemas.ActionLogOnly},
	}
	allow := []schemas.StatementRule{{Name: "app", Statements: []string{"select", "insert", "update", "transaction"}, Tables: []string{"billing.*", "customers"}}}
	set, err := NewSet([]schemas.Role{role("dev", allow, deny, nil)}, map[string]bool{"dev": true})
	if err != nil {
		b.Fatal(err)
	}
	f := Facts{Statements: []Statement{{Index: 1, Ops: []Op{{Class: ClassSelect, Tables: []Table{{Schema: "billing", Name: "payments"}, {Name: "customers"}}}},
		Functions: []string{"lower", "now"}}}}
	b.ReportAllocs()
	for b.Loop() {
		if v := set.Judge(&f, nil); v.Deny != nil {
			b.Fatal(v.Deny.Reason)
		}
	}
}
