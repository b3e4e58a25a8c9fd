package control

import (
	"context"
	"errors"
	"fmt"
	"github.com/tollgate-db/tollgate/internal/version"
	"path/filepath"
	"sync"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/control/keystore"
	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/projections"
	"github.com/tollgate-db/tollgate/projections/follow"
)

// Version is the Tollgate version recorded at bootstrap and shown by status.
const Version = version.Version

// Source is the event source of control.
const Source = "control"

// Config is what a Service needs. Control and Audit are required.
type Config struct {
	Control eventlog.Stream
	Audit   eventlog.Stream
	// Validator checks events before append; nil skips validation.
	Validator eventlog.Validator
	// DataDir holds the keystore and the local admin identity.
	DataDir string
	// ClusterName is used at first start.
	ClusterName string
	// KeyAlg returns the key algorithm per CA type; nil means ECDSA-P256.
	KeyAlg func(caType string) string
	// Hosts are the names and addresses of control's HTTPS listener, put
	// in its host cert.
	Hosts []string
	// SealKeyFile, when set, seals the keystore with AES-256-GCM under the
	// 32-byte key in this file (created 0600 at first start).
	SealKeyFile string
	// NATSURL is handed to joining agents. NATSInProcess means control
	// cannot serve an agent on another host: such joins are refused.
	NATSURL string
	// NATSURLFor, when set, is the NATS URL for an agent that reached
	// control's API by host (wire.Join.ControlHost): the embedded
	// listener at the name the agent already verified control's cert by.
	NATSURLFor func(host string) string
	Clock      eventlog.Clock
	Logger     zerolog.Logger
	// FailureDelay is the delay per failed login in a row (default
	// control.FailureDelay); tests may shorten it.
	FailureDelay time.Duration
	// CheckpointInterval is how often RunCheckpoints signs the head of
	// control's audit chain while it moves (default
	// DefaultCheckpointInterval).
	CheckpointInterval time.Duration
}

// KeystoreDir is the keystore's directory in a data dir.
func KeystoreDir(dataDir string) string { return filepath.Join(dataDir, "keystore") }

// Service is the control plane.
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

	// proj follows the control stream; it stops for good on a Follow
	// error, so that an API call waiting for its write fails at once.
	proj *follow.Follower
}

// New returns a Service; call Start to follow the log and bootstrap.
func New(cfg Config) (*Service, error) {
	if cfg.Control == nil || cfg.Audit == nil {
		return nil, errors.New("control: Control and Audit streams are required")
	}
	if cfg.DataDir == "" {
		return nil, errors.New("control: DataDir is required")
	}
	if cfg.Clock == nil {
		cfg.Clock = eventlog.SystemClock{}
	}
	b := eventlog.NewBuilder(Source)
	b.Clock = cfg.Clock
	s := &Service{cfg: cfg, log: cfg.Logger, builder: b, proj: follow.New(cfg.Control, follow.Options{Logger: cfg.Logger})}
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
	if cfg.FailureDelay == 0 {
		cfg.FailureDelay = FailureDelay
	}
	s.throttle = newThrottle(cfg.FailureDelay)
	return s, nil
}

// Start follows the control stream in the background until ctx ends, then
// bootstraps the cluster if it is new. It returns once bootstrap is done.
func (s *Service) Start(ctx context.Context) error {
	go s.proj.Run(ctx)
	if err := s.Bootstrap(ctx); err != nil {
		return fmt.Errorf("bootstrap: %w", err)
	}
	return nil
}

// View calls fn with the current state under a read lock. fn must not keep
// or change it.
func (s *Service) View(fn func(st *projections.State)) { s.proj.View(fn) }

// WaitSeq blocks until the projection has applied seq.
func (s *Service) WaitSeq(ctx context.Context, seq uint64) error { return s.proj.WaitSeq(ctx, seq) }

// Sync waits until the projection has applied everything in the stream now.
func (s *Service) Sync(ctx context.Context) error { return s.proj.Sync(ctx) }
