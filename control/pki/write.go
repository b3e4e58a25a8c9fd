package pki

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrExists is wrapped when an output file exists and overwrite is false.
var ErrExists = errors.New("file already exists")

// SignOutput is what `auth sign` produced: a db server cert and key, and
// the trusted bundles of the db CA (clients verify the server with it) and
// of the db_client CA (the database verifies the agent's client certs with
// it).
type SignOutput struct {
	CertPEM  []byte
	KeyPEM   []byte
	DBCA     []byte
	ClientCA []byte
}

type outFile struct {
	name    string
	data    []byte
	private bool
}

// WriteCockroachDB writes a CockroachDB certs dir: ca.crt (db CA bundle),
// ca-client.crt (db_client CA bundle), node.crt and node.key (0600). It
// returns the paths written.
func WriteCockroachDB(dir string, out SignOutput, overwrite bool) ([]string, error) {
	return writeFiles(dir, overwrite, []outFile{
		{"ca.crt", out.DBCA, false},
		{"ca-client.crt", out.ClientCA, false},
		{"node.crt", out.CertPEM, false},
		{"node.key", out.KeyPEM, true},
	})
}

// WriteDB writes PostgreSQL server files: server.crt, server.key (0600) and
// server.cas (db_client CA bundle, for ssl_ca_file).
func WriteDB(dir string, out SignOutput, overwrite bool) ([]string, error) {
	return writeFiles(dir, overwrite, []outFile{
		{"server.crt", out.CertPEM, false},
		{"server.key", out.KeyPEM, true},
		{"server.cas", out.ClientCA, false},
	})
}

// WriteTLS writes <name>.crt, <name>.key (0600) and <name>.cas (db_client
// CA bundle, to verify the agent's client certs).
func WriteTLS(dir, name string, out SignOutput, overwrite bool) ([]string, error) {
	if name == "" || name == "." || name == ".." || strings.ContainsAny(name, `/\`) {
		return nil, fmt.Errorf("%w: output name %q: use a plain file name without slashes", ErrInvalid, name)
	}
	return writeFiles(dir, overwrite, []outFile{
		{name + ".crt", out.CertPEM, false},
		{name + ".key", out.KeyPEM, true},
		{name + ".cas", out.ClientCA, false},
	})
}

// writeFiles checks every file before writing any, so a refusal leaves the
// dir untouched.
func writeFiles(dir string, overwrite bool, files []outFile) ([]string, error) {
	for _, f := range files {
		if len(f.data) == 0 {
			return nil, fmt.Errorf("%w: nothing to write to %s", ErrInvalid, f.name)
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create output dir: %w", err)
	}
	paths := make([]string, len(files))
	for i, f := range files {
		paths[i] = filepath.Join(dir, f.name)
		if overwrite {
			continue
		}
		if _, err := os.Lstat(paths[i]); err == nil {
			return nil, fmt.Errorf("%s: %w: pass --overwrite to replace it", paths[i], ErrExists)
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("check %s: %w", paths[i], err)
		}
	}
	for i, f := range files {
		mode := os.FileMode(0o644)
		if f.private {
			mode = 0o600
		}
		if err := writeAtomic(paths[i], f.data, mode); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

func writeAtomic(path string, data []byte, mode os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".tmp-"+filepath.Base(path)+"-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := tmp.Chmod(mode); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
