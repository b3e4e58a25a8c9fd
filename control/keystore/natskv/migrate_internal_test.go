package natskv

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/control/keystore"
	"github.com/tollgate-db/tollgate/eventlog/embedded"
)

// EmbeddedJS starts an embedded NATS server for the test and connects to
// it (the external tests use it too).
func EmbeddedJS(t *testing.T) jetstream.JetStream {
	t.Helper()
	srv, err := embedded.Start(context.Background(), embedded.Config{StoreDir: t.TempDir(), Logger: zerolog.Nop()})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Shutdown(context.Background()) })
	nc, err := srv.Connect()
	require.NoError(t, err)
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	require.NoError(t, err)
	return js
}

// An import cut short (the marker says running, some records are in) is
// done again at the next start.
func TestImportCutShortIsDoneAgain(t *testing.T) {
	ctx := context.Background()
	js := EmbeddedJS(t)
	sealPath := filepath.Join(t.TempDir(), "seal.key")
	seal, err := keystore.LoadSealKey(sealPath, true)
	require.NoError(t, err)
	s, err := Open(ctx, js, Config{Seal: seal})
	require.NoError(t, err)
	file, err := keystore.New(t.TempDir(), keystore.WithSealKey(sealPath, false))
	require.NoError(t, err)
	require.NoError(t, file.PutSecret(ctx, "a", []byte("1")))
	require.NoError(t, file.PutSecret(ctx, "b", []byte("2")))

	require.NoError(t, s.put(ctx, kindMeta, importName, []byte(importRunning)))
	require.NoError(t, s.PutSecret(ctx, "a", []byte("1")))
	n, err := s.ImportFile(ctx, file)
	require.NoError(t, err)
	require.Equal(t, Imported{Secrets: 2}, n)
	v, err := s.GetSecret(ctx, "b")
	require.NoError(t, err)
	require.Equal(t, "2", string(v))
	n, err = s.ImportFile(ctx, file)
	require.NoError(t, err)
	require.Equal(t, Imported{}, n, "done once")
}
