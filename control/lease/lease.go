package lease

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/rs/zerolog"
)

// DefaultBucket is the KV bucket of the leases.
const DefaultBucket = "TOLLGATE_LEASES"

// DefaultTTL is how long a lease outlives its holder's last renewal.
const DefaultTTL = 15 * time.Second

// ErrBadName means a lease name is not one KV key token
// ([A-Za-z0-9_-], '.' between tokens).
var ErrBadName = errors.New("lease name: use letters, digits, '-', '_' and '.'")

// Config configures Open.
type Config struct {
	// Bucket is the leases' KV bucket (default DefaultBucket). Its
	// entries expire after TTL: every process using it must use the
	// same TTL (an existing bucket is bound as it is).
	Bucket string
	// TTL (default DefaultTTL; at least a second).
	TTL time.Duration
	// Replicas of a bucket Open creates (default 1).
	Replicas int
	// Holder names this process in the lease's value (default random).
	Holder string
	Logger zerolog.Logger
}

// Leases runs work under leases in one bucket.
type Leases struct {
	kv     jetstream.KeyValue
	ttl    time.Duration
	holder string
	log    zerolog.Logger
}

// Open binds the bucket, creating it (file storage, history 1, entries
// expiring TTL after they were written) when it does not exist.
func Open(ctx context.Context, js jetstream.JetStream, cfg Config) (*Leases, error) {
	if cfg.Bucket == "" {
		cfg.Bucket = DefaultBucket
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultTTL
	}
	if cfg.TTL < time.Second {
		return nil, fmt.Errorf("lease: TTL %s: use at least 1s", cfg.TTL)
	}
	if cfg.Replicas == 0 {
		cfg.Replicas = 1
	}
	if cfg.Holder == "" {
		b := make([]byte, 8)
		if _, err := rand.Read(b); err != nil {
			return nil, fmt.Errorf("lease holder id: %w", err)
		}
		cfg.Holder = hex.EncodeToString(b)
	}
	kv, err := js.KeyValue(ctx, cfg.Bucket)
	if errors.Is(err, jetstream.ErrBucketNotFound) {
		kv, err = js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: cfg.Bucket,
			Description: "Tollgate leases: which process runs background work", History: 1, TTL: cfg.TTL,
			Storage: jetstream.FileStorage, Replicas: cfg.Replicas})
		if errors.Is(err, jetstream.ErrBucketExists) {
			kv, err = js.KeyValue(ctx, cfg.Bucket)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("open lease bucket %s: %w", cfg.Bucket, err)
	}
	return &Leases{kv: kv, ttl: cfg.TTL, holder: cfg.Holder, log: cfg.Logger}, nil
}

// Holder is this process's name in the leases it holds.
func (l *Leases) Holder() string { return l.holder }

// Run runs fn each time this process takes the lease name, with a
// context cancelled when the lease is lost, and waits for fn to return
// before trying to take it again. It returns nil when ctx ends or fn
// returns on its own (releasing the lease), or ErrBadName.
func (l *Leases) Run(ctx context.Context, name string, fn func(ctx context.Context)) error {
	if !validName(name) {
		return fmt.Errorf("%q: %w", name, ErrBadName)
	}
	for {
		rev, sent, ok := l.acquire(ctx, name)
		if !ok {
			return nil
		}
		if done := l.hold(ctx, name, rev, sent, fn); done {
			return nil
		}
	}
}

func validName(name string) bool {
	if name == "" || name[0] == '.' || name[len(name)-1] == '.' {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' ||
			c == '.' && name[i-1] != '.'
		if !ok {
			return false
		}
	}
	return true
}
