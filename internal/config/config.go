package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"

	"gopkg.in/yaml.v3"
)

// Defaults (DESIGN §6).
const (
	DefaultDataDir       = "tollgate-data"
	DefaultControlListen = "127.0.0.1:7080"
	KeyAlgECDSA          = "ECDSA-P256"
	KeyAlgRSA            = "RSA-2048"
	// EnvDataDir overrides the default data dir for every binary.
	EnvDataDir = "TOLLGATE_DATA_DIR"
)

// ErrInvalid marks a configuration that cannot run.
var ErrInvalid = errors.New("invalid configuration")

// Config is the whole daemon configuration.
type Config struct {
	// DataDir holds the JetStream store, the keystore and the local admin
	// identity.
	DataDir string `yaml:"data_dir"`
	// ClusterName is used at first start only; default the hostname.
	ClusterName string  `yaml:"cluster_name"`
	NATS        NATS    `yaml:"nats"`
	Control     Control `yaml:"control"`
	Log         Log     `yaml:"log"`
}

// NATS says where the event log lives. An empty URL runs an embedded
// server in DataDir.
type NATS struct {
	URL   string `yaml:"url"`
	Creds string `yaml:"creds"`
	// Replicas of each stream; 1 on a single node, 3 on a cluster.
	Replicas int `yaml:"replicas"`
}

// Control configures the control plane.
type Control struct {
	// Enabled runs control in this process (default true).
	Enabled *bool `yaml:"enabled"`
	// ListenAddr is the HTTPS API listener.
	ListenAddr string `yaml:"listen_addr"`
	// PublicAddr is the address clients and agents use; it is a SAN of the
	// control host cert.
	PublicAddr string `yaml:"public_addr"`
	// CAKeyAlg selects the key algorithm per CA type ("user", "host", "db",
	// "db_client"): ECDSA-P256 (default) or RSA-2048.
	CAKeyAlg map[string]string `yaml:"ca_key_alg"`
	// SealKeyFile optionally seals the keystore with a key file.
	SealKeyFile string `yaml:"seal_key_file"`
}

// Log configures logging.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// ControlEnabled reports whether control runs in this process.
func (c *Config) ControlEnabled() bool {
	return c.Control.Enabled == nil || *c.Control.Enabled
}

// Default returns the configuration used with no file.
func Default() Config {
	return Config{
		DataDir: DefaultDataDir,
		Control: Control{ListenAddr: DefaultControlListen},
	}
}

// Load reads a YAML file over the defaults. Unknown keys are errors, with
// their line.
func Load(path string) (Config, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return Parse(raw)
}

// Parse decodes YAML over the defaults and validates the result.
func Parse(raw []byte) (Config, error) {
	c := Default()
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	c.fill()
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func (c *Config) fill() {
	if c.DataDir == "" {
		c.DataDir = DefaultDataDir
	}
	if c.Control.ListenAddr == "" {
		c.Control.ListenAddr = DefaultControlListen
	}
}

// Validate checks values that cannot work.
func (c *Config) Validate() error {
	c.fill()
	if _, _, err := net.SplitHostPort(c.Control.ListenAddr); err != nil {
		return fmt.Errorf("%w: control.listen_addr %q: use HOST:PORT", ErrInvalid, c.Control.ListenAddr)
	}
	if c.Control.PublicAddr != "" {
		if _, _, err := net.SplitHostPort(c.Control.PublicAddr); err != nil {
			return fmt.Errorf("%w: control.public_addr %q: use HOST:PORT", ErrInvalid, c.Control.PublicAddr)
		}
	}
	for typ, alg := range c.Control.CAKeyAlg {
		switch typ {
		case "user", "host", "db", "db_client":
		default:
			return fmt.Errorf("%w: control.ca_key_alg: unknown CA type %q (use user, host, db or db_client)", ErrInvalid, typ)
		}
		switch strings.ToUpper(alg) {
		case KeyAlgECDSA, KeyAlgRSA:
		default:
			return fmt.Errorf("%w: control.ca_key_alg.%s: %q (use ECDSA-P256 or RSA-2048)", ErrInvalid, typ, alg)
		}
	}
	return nil
}

// KeyAlg returns the key algorithm for a CA type.
func (c *Config) KeyAlg(caType string) string {
	if a, ok := c.Control.CAKeyAlg[caType]; ok && a != "" {
		return strings.ToUpper(a)
	}
	return KeyAlgECDSA
}

// ResolveDataDir returns the data dir a CLI should use: the flag, else
// TOLLGATE_DATA_DIR, else ./tollgate-data.
func ResolveDataDir(flag string) string {
	if flag != "" {
		return flag
	}
	if v := os.Getenv(EnvDataDir); v != "" {
		return v
	}
	return DefaultDataDir
}
