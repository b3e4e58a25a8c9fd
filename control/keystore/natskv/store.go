package natskv

import (
	"context"
	"crypto"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/tollgate-db/tollgate/control/keystore"
)

// DefaultBucket is the KV bucket control's keys and secrets live in.
const DefaultBucket = "TOLLGATE_KEYS"

// ErrNoSealKey means a store was asked for without a seal key: the bucket
// never holds a key or secret in clear.
var ErrNoSealKey = errors.New("the NATS keystore needs a seal key: set control.seal_key_file (the same 32-byte file on every control host)")

// Config configures Open. Seal is required.
type Config struct {
	// Bucket is the KV bucket (default DefaultBucket).
	Bucket string
	// Replicas of a bucket Open creates (0: 1). An existing bucket is
	// bound as it is, but one with other replicas than a non-zero
	// Replicas is refused, naming both.
	Replicas int
	// Seal seals every value.
	Seal *keystore.Sealer
}

// Store is a control.Keys over a NATS KV bucket. It is safe for
// concurrent use.
type Store struct {
	kv   jetstream.KeyValue
	seal *keystore.Sealer
}

// Open binds the bucket, creating it (file storage, history 1) when it
// does not exist.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Store, error) {
	if cfg.Seal == nil {
		return nil, ErrNoSealKey
	}
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultBucket
	}
	asked := cfg.Replicas
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket:      cfg.Bucket,
			Description: "Tollgate control's CA keys and secrets, sealed",
			History:     1,
			Storage:     jetstream.FileStorage,
			Replicas:    cfg.Replicas,
		})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, cfg.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open keystore bucket %s: %w", cfg.Bucket, err)
	}
	if err := checkReplicas(ctx, kv, cfg.Bucket, asked); err != nil {
		return nil, err
	}
	return &Store{kv: kv, seal: cfg.Seal}, nil
}

// checkReplicas refuses a bucket with other replicas than asked (0: any).
func checkReplicas(ctx context.Context, kv jetstream.KeyValue, bucket string, asked int) error {
	if asked == 0 {
		return nil
	}
	st, err := kv.Status(ctx)
	if err != nil {
		return fmt.Errorf("keystore bucket %s: %w", bucket, err)
	}
	bs, ok := st.(*jetstream.KeyValueBucketStatus)
	if !ok {
		return nil
	}
	if have := bs.StreamInfo().Config.Replicas; have != asked {
		return fmt.Errorf("keystore bucket %s exists with replicas %d, this config asks %d: set nats.replicas to %d, "+
			"or scale the bucket with nats stream edit KV_%s --replicas %d", bucket, have, asked, have, bucket, asked)
	}
	return nil
}

// kvKey is the bucket's key of a record.
func kvKey(kind, name string) (string, error) {
	if err := keystore.CheckName(name); err != nil {
		return "", err
	}
	return kind + "." + base64.RawURLEncoding.EncodeToString([]byte(name)), nil
}

func (s *Store) put(ctx context.Context, kind, name string, clear []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k, err := kvKey(kind, name)
	if err != nil {
		return err
	}
	sealed, err := s.seal.Seal(keystore.SealAD(kind, name), clear)
	if err != nil {
		return err
	}
	if _, err := s.kv.Put(ctx, k, sealed); err != nil {
		return fmt.Errorf("store %s: %w", kind, err)
	}
	return nil
}

func (s *Store) get(ctx context.Context, kind, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	k, err := kvKey(kind, name)
	if err != nil {
		return nil, err
	}
	e, err := s.kv.Get(ctx, k)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, fmt.Errorf("%s %q: %w", strings.TrimSuffix(kind, "s"), name, keystore.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read keystore bucket: %w", err)
	}
	return s.seal.Open(keystore.SealAD(kind, name), e.Value())
}

func (s *Store) remove(ctx context.Context, kind, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	k, err := kvKey(kind, name)
	if err != nil {
		return err
	}
	if err := s.kv.Purge(ctx, k); err != nil {
		return fmt.Errorf("remove from keystore bucket: %w", err)
	}
	return nil
}

// Put stores key under keyID, replacing any key stored there.
func (s *Store) Put(ctx context.Context, keyID string, key crypto.Signer) error {
	data, err := keystore.EncodeKey(keyID, key)
	if err != nil {
		return err
	}
	return s.put(ctx, keystore.KindKey, keyID, data)
}

// Get loads the key stored under keyID, or keystore.ErrNotFound.
func (s *Store) Get(ctx context.Context, keyID string) (crypto.Signer, error) {
	data, err := s.get(ctx, keystore.KindKey, keyID)
	if err != nil {
		return nil, err
	}
	return keystore.DecodeKey(keyID, data)
}

// Delete removes the key stored under keyID; a missing key is no error.
func (s *Store) Delete(ctx context.Context, keyID string) error {
	return s.remove(ctx, keystore.KindKey, keyID)
}

// PutSecret stores value under name, replacing any value stored there.
func (s *Store) PutSecret(ctx context.Context, name string, value []byte) error {
	return s.put(ctx, keystore.KindSecret, name, value)
}

// GetSecret returns the value stored under name, or keystore.ErrNotFound.
func (s *Store) GetSecret(ctx context.Context, name string) ([]byte, error) {
	return s.get(ctx, keystore.KindSecret, name)
}

// DeleteSecret removes the value stored under name; a missing one is no
// error.
func (s *Store) DeleteSecret(ctx context.Context, name string) error {
	return s.remove(ctx, keystore.KindSecret, name)
}
