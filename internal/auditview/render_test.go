package auditview

import (
	"bytes"
	"context"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/auditquery"
	"github.com/tollgate-db/tollgate/auditquery/audittest"
)

var update = flag.Bool("update", false, "rewrite golden files")

func golden(t *testing.T, name string, got []byte) {
	path := filepath.Join("testdata", name+".golden")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, got, 0o644))
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./internal/auditview -update")
	require.Equal(t, string(want), string(got))
}

// TestRenderSearch: alice's events on roach in the sample trail, as
// tollctl audit search shows them.
func TestRenderSearch(t *testing.T) {
	t.Parallel()
	l := audittest.SampleAudit(t)
	res, err := auditquery.Search(context.Background(), l.S, auditquery.Filter{User: "alice", DB: "roach"})
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, RenderRecords(&b, res.Records, RecordsOptions{}))
	golden(t, "search", b.Bytes())
}

// TestRenderTranscript: session s1 of the sample trail, as tollctl audit
// session shows it.
func TestRenderTranscript(t *testing.T) {
	t.Parallel()
	l := audittest.SampleAudit(t)
	tr, err := auditquery.Session(context.Background(), l.S, "s1")
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, RenderTranscript(&b, &tr))
	golden(t, "session", b.Bytes())
}

// TestRenderAccess: what alice could reach before she lost role prod, as
// tollctl audit access shows it.
func TestRenderAccess(t *testing.T) {
	t.Parallel()
	l := audittest.SampleAccess(t)
	r, err := auditquery.AccessAt(context.Background(), l.S, audittest.T0.Add(5*time.Minute), "alice", "")
	require.NoError(t, err)
	var b bytes.Buffer
	require.NoError(t, RenderAccess(&b, &r))
	golden(t, "access_before", b.Bytes())
}
