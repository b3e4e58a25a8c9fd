package keystore_test

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/keystore"
	"github.com/tollgate-db/tollgate/control/keystore/keystoretest"
)

func TestFileStoreConformance(t *testing.T) {
	t.Parallel()
	t.Run("clear", func(t *testing.T) {
		keystoretest.Run(t, func(t *testing.T) control.Keys {
			s, err := keystore.New(filepath.Join(t.TempDir(), "ks"))
			require.NoError(t, err)
			return s
		})
	})
	t.Run("sealed", func(t *testing.T) {
		keystoretest.Run(t, func(t *testing.T) control.Keys {
			s, err := keystore.New(filepath.Join(t.TempDir(), "ks"), keystore.WithSealKey(filepath.Join(t.TempDir(), "seal.key"), true))
			require.NoError(t, err)
			return s
		})
	})
}
