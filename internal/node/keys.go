package node

import (
	"context"
	"errors"
	"fmt"
	"os"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/control"
	"github.com/tollgate-db/tollgate/control/keystore"
	"github.com/tollgate-db/tollgate/control/keystore/natskv"
	"github.com/tollgate-db/tollgate/internal/config"
)

var _ control.Keys = (*natskv.Store)(nil)

// openKeys is where control keeps its keys and secrets: nil (control opens
// the data dir's file keystore) unless control.keystore is nats. Then it
// is the sealed TOLLGATE_KEYS bucket, into which the data dir's file
// keystore is imported once when the bucket is new, so that switching a
// running cluster to nats keeps its CAs instead of making a second set.
func openKeys(ctx context.Context, cfg config.Config, js jetstream.JetStream, log zerolog.Logger) (control.Keys, error) {
	if !cfg.KeysInNATS() {
		return nil, nil
	}
	if js == nil {
		return nil, errors.New("control.keystore nats: the event log has no JetStream connection")
	}
	_, statErr := os.Stat(cfg.Control.SealKeyFile)
	created := errors.Is(statErr, os.ErrNotExist)
	seal, err := keystore.LoadSealKey(cfg.Control.SealKeyFile, true)
	if err != nil {
		return nil, fmt.Errorf("control.seal_key_file: %w", err)
	}
	ks, err := natskv.Open(ctx, js, natskv.Config{Replicas: cfg.NATS.Replicas, Seal: seal})
	if err != nil {
		return nil, err
	}
	// Files from before the seal key was set are read too.
	file, err := keystore.New(control.KeystoreDir(cfg.DataDir), keystore.WithSealKey(cfg.Control.SealKeyFile, false), keystore.ReadClear())
	if err != nil {
		return nil, fmt.Errorf("open the data dir's keystore to import it: %w", err)
	}
	n, err := ks.ImportFile(ctx, file)
	if errors.Is(err, keystore.ErrSealed) && created {
		// The bucket is another control's: the key just made is not its.
		_ = os.Remove(cfg.Control.SealKeyFile)
		return nil, fmt.Errorf("control.seal_key_file %s did not exist and the keystore bucket %s is in use: "+
			"copy the seal key file of the controls already running to this host: %w", cfg.Control.SealKeyFile, natskv.DefaultBucket, err)
	}
	if err != nil {
		return nil, fmt.Errorf("import the data dir's keystore into the bucket %s: %w", natskv.DefaultBucket, err)
	}
	if n.Keys+n.Secrets > 0 {
		log.Info().Int("keys", n.Keys).Int("secrets", n.Secrets).Str("from", control.KeystoreDir(cfg.DataDir)).
			Str("bucket", natskv.DefaultBucket).Msg("imported the data dir's keystore into NATS KV (once; the bucket is the keystore from now on)")
	}
	log.Info().Str("bucket", natskv.DefaultBucket).Msg("control keys and secrets in NATS KV, sealed")
	return ks, nil
}
