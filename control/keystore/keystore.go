package keystore

import (
	"context"
	"crypto"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ErrNotFound is returned when no key or secret has the asked name.
var ErrNotFound = errors.New("not found in keystore")

// ErrSealed is returned when a file is sealed and the store has no seal
// key, or the other way round, or the seal key does not open it.
var ErrSealed = errors.New("keystore seal mismatch")

// The kinds of record: CA keys and secrets.
const (
	KindKey    = "keys"
	KindSecret = "secrets"
)

// Option configures New.
type Option func(*options)

type options struct {
	sealPath   string
	sealCreate bool
	readClear  bool
}

// WithSealKey seals every file with AES-256-GCM under the 32-byte key in
// path. When create is true and path does not exist, a new random key is
// written there (0600); otherwise a missing file is an error.
func WithSealKey(path string, create bool) Option {
	return func(o *options) { o.sealPath, o.sealCreate = path, create }
}

// ReadClear lets a store with a seal key read files that are not sealed
// (written before the data dir had a seal key), to import them into a
// sealed store; it still writes every file sealed.
func ReadClear() Option { return func(o *options) { o.readClear = true } }

// Store is a keystore directory. It is safe for concurrent use.
type Store struct {
	dir       string
	seal      *Sealer
	readClear bool
}

// New opens (creating if needed) the keystore in dir.
func New(dir string, opts ...Option) (*Store, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	for _, d := range []string{dir, filepath.Join(dir, KindKey), filepath.Join(dir, KindSecret)} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, fmt.Errorf("create keystore dir: %w", err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return nil, fmt.Errorf("restrict keystore dir: %w", err)
		}
	}
	s := &Store{dir: dir, readClear: o.readClear}
	if o.sealPath != "" {
		sl, err := LoadSealKey(o.sealPath, o.sealCreate)
		if err != nil {
			return nil, err
		}
		s.seal = sl
	}
	return s, nil
}

// Dir is the keystore directory.
func (s *Store) Dir() string { return s.dir }

// Sealed reports whether files are sealed with a seal key.
func (s *Store) Sealed() bool { return s.seal != nil }

// Put stores key under keyID, replacing any key stored there.
func (s *Store) Put(ctx context.Context, keyID string, key crypto.Signer) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	data, err := EncodeKey(keyID, key)
	if err != nil {
		return err
	}
	return s.write(KindKey, keyID, ".pem", data)
}

// Get loads the key stored under keyID, or ErrNotFound.
func (s *Store) Get(ctx context.Context, keyID string) (crypto.Signer, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	data, err := s.read(KindKey, keyID, ".pem")
	if err != nil {
		return nil, err
	}
	return DecodeKey(keyID, data)
}

// Delete removes the key stored under keyID; a missing key is no error.
func (s *Store) Delete(ctx context.Context, keyID string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.remove(KindKey, keyID, ".pem")
}

// PutSecret stores value under name, replacing any value stored there.
func (s *Store) PutSecret(ctx context.Context, name string, value []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.write(KindSecret, name, "", value)
}

// GetSecret returns the value stored under name, or ErrNotFound.
func (s *Store) GetSecret(ctx context.Context, name string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return s.read(KindSecret, name, "")
}

// DeleteSecret removes the value stored under name; a missing one is no
// error.
func (s *Store) DeleteSecret(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.remove(KindSecret, name, "")
}

func (s *Store) path(kind, name, ext string) (string, error) {
	if err := CheckName(name); err != nil {
		return "", err
	}
	return filepath.Join(s.dir, kind, EncodeName(name)+ext), nil
}

func (s *Store) write(kind, name, ext string, data []byte) error {
	p, err := s.path(kind, name, ext)
	if err != nil {
		return err
	}
	if s.seal != nil {
		if data, err = s.seal.Seal(SealAD(kind, name), data); err != nil {
			return err
		}
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), ".tmp-*")
	if err != nil {
		return fmt.Errorf("store %s: %w", kind, err)
	}
	defer func() { _ = os.Remove(tmp.Name()) }()
	if err := tmp.Chmod(0o600); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("store %s: %w", kind, err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("store %s: %w", kind, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("store %s: %w", kind, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("store %s: %w", kind, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("store %s: %w", kind, err)
	}
	return nil
}

func (s *Store) read(kind, name, ext string) ([]byte, error) {
	p, err := s.path(kind, name, ext)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%s %q: %w", strings.TrimSuffix(kind, "s"), name, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read keystore: %w", err)
	}
	sealed := IsSealed(data)
	switch {
	case s.seal == nil && sealed:
		return nil, fmt.Errorf("%s %q is sealed: open the keystore with its seal key file: %w", strings.TrimSuffix(kind, "s"), name, ErrSealed)
	case s.seal != nil && !sealed && !s.readClear:
		return nil, fmt.Errorf("%s %q is not sealed but the keystore uses a seal key: %w", strings.TrimSuffix(kind, "s"), name, ErrSealed)
	case sealed:
		return s.seal.Open(SealAD(kind, name), data)
	}
	return data, nil
}

func (s *Store) remove(kind, name, ext string) error {
	p, err := s.path(kind, name, ext)
	if err != nil {
		return err
	}
	if err := os.Remove(p); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove from keystore: %w", err)
	}
	return nil
}

// EncodeName maps any string to a safe single file name: ASCII letters,
// digits, '-' and '_' stay, every other byte becomes %XX (upper-case hex).
// Distinct names give distinct file names.
func EncodeName(name string) string {
	const hexd = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('%')
		b.WriteByte(hexd[c>>4])
		b.WriteByte(hexd[c&15])
	}
	return b.String()
}
