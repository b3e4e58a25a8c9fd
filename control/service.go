package control

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/control/keystore"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/internal/version"
	"github.com/tollgate-db/tollgate/projections"
)

// Version is the Tollgate version recorded at bootstrap and shown by status.
const Version = version.Version

// Source is the event source of control.
const Source = "control"

// KeystoreDir is the keystore's directory in a data dir.
func KeystoreDir(dataDir string) string { return filepath.Join(dataDir, "keystore") }

// Service is the control plane: the projection it follows, the core every
// command shares (authorize, build, append, wait for the projection) and
// its own identity. Its commands and queries are grouped by concept, each a
// small type over the Service: Users, Roles, Tokens, Locks, Databases,
// Agents, Certs, CAs, Cluster, Auth and Audit (control/api mounts each).
type Service struct {
	cfg      Config
	log      zerolog.Logger
	builder  *eventlog.Builder
	keys     *keystore.Store
	pki      *authority
	audit    *auditor
	throttle *throttle

	certMu sync.Mutex // control's host cert (servercert.go)

	hostCertMu       sync.Mutex // recording control's host cert (checkpoint.go)
	hostCertRecorded string     // serial last known to be on the control stream

	mu      sync.RWMutex
	applied *sync.Cond
	state   *projections.State
	failed  error
}

// New returns a Service; call Start to follow the log and bootstrap.
func New(cfg Config) (*Service, error) {
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	b := eventlog.NewBuilder(Source)
	b.Clock = cfg.Clock
	s := &Service{cfg: cfg, log: cfg.Logger, builder: b, state: projections.New()}
	s.applied = sync.NewCond(s.mu.RLocker())
	var opts []keystore.Option
	if cfg.SealKeyFile != "" {
		opts = append(opts, keystore.WithSealKey(cfg.SealKeyFile, true))
	}
	ks, err := keystore.New(KeystoreDir(cfg.DataDir), opts...)
	if err != nil {
		return nil, fmt.Errorf("open keystore: %w", err)
	}
	s.keys = ks
	s.pki = newAuthority(s, ks)
	s.audit = newAuditor(s)
	s.throttle = newThrottle(cfg.FailureDelay)
	return s, nil
}

// Start follows the control stream in the background until ctx ends, then
// bootstraps the cluster if it is new. It returns once bootstrap is done.
func (s *Service) Start(ctx context.Context) error {
	go s.follow(ctx)
	if err := s.Bootstrap(ctx); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	return nil
}

func (s *Service) follow(ctx context.Context) {
	err := s.cfg.Control.Follow(ctx, eventlog.Query{}, func(rec eventlog.Record) error {
		s.mu.Lock()
		defer s.mu.Unlock()
		if err := s.state.Apply(rec); err != nil {
			// A bad event is logged and skipped; the sequence still moves
			// so waiters are not stuck.
			s.log.Error().Err(err).Uint64("seq", rec.StreamSeq).Str("type", rec.Event.Type).Msg("apply control event")
			s.state.LastSeq = rec.StreamSeq
		}
		s.applied.Broadcast()
		return nil
	})
	s.mu.Lock()
	if err == nil || ctx.Err() != nil {
		err = eventlog.ErrClosed
	}
	s.failed = err
	s.applied.Broadcast()
	s.mu.Unlock()
}

// View calls fn with the current state under a read lock. fn must not keep
// or change it.
func (s *Service) View(fn func(st *projections.State)) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	fn(s.state)
}

// WaitSeq blocks until the projection has applied seq.
func (s *Service) WaitSeq(ctx context.Context, seq uint64) error {
	stop := context.AfterFunc(ctx, func() {
		s.mu.Lock()
		s.applied.Broadcast()
		s.mu.Unlock()
	})
	defer stop()
	s.mu.RLock()
	defer s.mu.RUnlock()
	for s.state.LastSeq < seq {
		if s.failed != nil {
			return fmt.Errorf("follow control stream: %w", s.failed)
		}
		if err := ctx.Err(); err != nil {
			return err
		}
		s.applied.Wait()
	}
	return nil
}

// Sync waits until the projection has applied everything in the stream now.
func (s *Service) Sync(ctx context.Context) error {
	last, err := s.cfg.Control.LastSeq(ctx)
	if err != nil {
		return fmt.Errorf("read control stream: %w", err)
	}
	return s.WaitSeq(ctx, last)
}
