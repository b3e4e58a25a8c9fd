package pki_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/schemas"
)

// TestPinMatchesOpenSSL checks Pin against the real openssl binary:
// openssl x509 -pubkey -noout | openssl pkey -pubin -outform der | sha256sum.
func TestPinMatchesOpenSSL(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl not found: apt-get install -y openssl")
	}
	for _, alg := range []string{pki.AlgECDSAP256, pki.AlgRSA2048} {
		certPEM, _, err := pki.NewCA(schemas.CAUser, alg, "c", time.Now(), time.Hour)
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "ca.crt")
		require.NoError(t, os.WriteFile(path, certPEM, 0o644))
		out, err := exec.Command("bash", "-o", "pipefail", "-c",
			`openssl x509 -in "$1" -pubkey -noout | openssl pkey -pubin -outform der | sha256sum`, "pin", path).CombinedOutput()
		require.NoError(t, err, string(out))
		pin, err := pki.Pin(certPEM)
		require.NoError(t, err)
		require.Equal(t, "sha256:"+strings.Fields(string(out))[0], pin, alg)
	}
}
