package config

import "fmt"

// The values of control.keystore.
const (
	// KeystoreFile keeps CA keys and secrets in <data_dir>/keystore: one
	// control per cluster.
	KeystoreFile = "file"
	// KeystoreNATS keeps them in one NATS KV bucket, sealed with
	// control.seal_key_file, so that several controls on one NATS cluster
	// share them. It works on the embedded server too.
	KeystoreNATS = "nats"
)

// validateKeystore refuses an unknown control.keystore, and the nats
// keystore without a seal key file (the bucket never holds a key in
// clear).
func (c Control) validateKeystore() error {
	switch c.Keystore {
	case KeystoreFile:
	case KeystoreNATS:
		if c.SealKeyFile == "" {
			return fmt.Errorf("%w: control.keystore: nats needs control.seal_key_file (the same 32-byte key file on every control host; "+
				"created 0600 at first start when missing)", ErrInvalid)
		}
	default:
		return fmt.Errorf("%w: control.keystore %q: use file (the default) or nats", ErrInvalid, c.Keystore)
	}
	return nil
}

// KeysInNATS reports whether control keeps its keys and secrets in NATS KV
// (control.keystore: nats), which is what lets several controls share one
// cluster.
func (c *Config) KeysInNATS() bool { return c.Control.Keystore == KeystoreNATS }
