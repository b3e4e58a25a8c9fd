package auditpub

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestTimeoutCtxReusedUntilItFires(t *testing.T) {
	t.Parallel()
	var tc timeoutCtx
	base := context.Background()
	first := tc.arm(base, time.Hour)
	require.NoError(t, first.Err())
	require.False(t, tc.disarm(), "stopped before firing")
	require.False(t, tc.disarm(), "disarming twice is harmless")
	again := tc.arm(base, time.Hour)
	require.Equal(t, first, again, "reused while it has not fired")
	require.False(t, tc.disarm())

	fired := tc.arm(base, time.Millisecond)
	<-fired.Done()
	require.True(t, tc.disarm(), "reports the timeout")
	require.Error(t, fired.Err())
	fresh := tc.arm(base, time.Hour)
	require.NoError(t, fresh.Err(), "a new context after a timeout")
	require.False(t, tc.disarm())
}
