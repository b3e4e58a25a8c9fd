package control

import (
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/eventlog"
)

// Config is what a Service needs. Control, Audit and DataDir are required;
// New refuses a negative duration or an unknown key algorithm, naming the
// field.
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
	// Keys, when set, is where CA keys and secrets are kept (the NATS KV
	// store shared by several controls); nil means the file keystore in
	// DataDir, sealed with SealKeyFile when that is set. Control's own
	// host cert and key stay in that file keystore either way: each
	// control has its own.
	Keys Keys
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

// validate refuses a Config New cannot run with, naming the field: a
// missing stream or data dir, a negative duration, an unknown key
// algorithm (which bootstrap would refuse only once the cluster is half
// made). An empty host is left out of control's cert, as always.
func (cfg Config) validate() error {
	if cfg.Control == nil || cfg.Audit == nil {
		return errors.New("control: Control and Audit streams are required")
	}
	if cfg.DataDir == "" {
		return errors.New("control: DataDir is required")
	}
	for _, d := range []struct {
		name string
		d    time.Duration
	}{{"FailureDelay", cfg.FailureDelay}, {"CheckpointInterval", cfg.CheckpointInterval}} {
		if d.d < 0 {
			return fmt.Errorf("control: %s %s is negative (0 is the default)", d.name, d.d)
		}
	}
	if cfg.KeyAlg != nil {
		for _, t := range CATypes {
			if _, err := pki.NormalizeAlg(cfg.KeyAlg(t)); err != nil {
				return fmt.Errorf("control: KeyAlg of the %s CA: %w", t, err)
			}
		}
	}
	return nil
}

// withDefaults fills what cfg leaves zero.
func (cfg Config) withDefaults() Config {
	if cfg.Clock == nil {
		cfg.Clock = eventlog.SystemClock{}
	}
	if cfg.FailureDelay == 0 {
		cfg.FailureDelay = FailureDelay
	}
	if cfg.CheckpointInterval == 0 {
		cfg.CheckpointInterval = DefaultCheckpointInterval
	}
	return cfg
}
