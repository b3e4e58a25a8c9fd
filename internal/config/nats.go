package config

import (
	"fmt"
	"os"
)

// validateTLS checks the client TLS files of an external NATS: only with
// nats.url (the embedded server and its listener use control's PKI), a
// client cert and its key together, and every file named readable.
func (n NATS) validateTLS() error {
	files := []struct{ key, path string }{
		{"nats.ca_file", n.CAFile}, {"nats.cert_file", n.CertFile}, {"nats.key_file", n.KeyFile},
	}
	for _, f := range files {
		if f.path != "" && n.URL == "" {
			return fmt.Errorf("%w: %s is for an external NATS: set nats.url too, or remove it (the embedded server uses control's certs)",
				ErrInvalid, f.key)
		}
	}
	if (n.CertFile == "") != (n.KeyFile == "") {
		return fmt.Errorf("%w: nats.cert_file and nats.key_file go together (a client cert for mTLS): set both or neither", ErrInvalid)
	}
	for _, f := range files {
		if f.path == "" {
			continue
		}
		if _, err := os.Stat(f.path); err != nil {
			return fmt.Errorf("%w: %s %q: %w", ErrInvalid, f.key, f.path, err)
		}
	}
	return nil
}
