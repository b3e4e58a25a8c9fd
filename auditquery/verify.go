package auditquery

import (
	"context"
	"fmt"

	"github.com/tollgate-db/tollgate/eventlog"
)

// Verify checks the hash chains of the audit records of s matching q (see
// eventlog.Verify); chain breaks are in the report, the error is a read
// error.
func Verify(ctx context.Context, s eventlog.Stream, q eventlog.Query) (eventlog.Report, error) {
	rep, err := eventlog.Verify(ctx, s, q)
	if err != nil {
		return rep, fmt.Errorf("verify %s: %w", s.Name(), err)
	}
	return rep, nil
}
