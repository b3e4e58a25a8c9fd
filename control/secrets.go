package control

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/tollgate-db/tollgate/eventlog"
)

// MinPasswordLen is the shortest password accepted.
const MinPasswordLen = 10

// argon2id parameters (RFC 9106 second recommendation, lighter memory).
const (
	argonTime    = 2
	argonMemory  = 64 * 1024
	argonThreads = 2
	argonKeyLen  = 32
)

// secrets keeps password hashes in <data-dir>/keystore/passwords, one 0600
// file per user; they never enter the log.
type secrets struct{ dir string }

func openSecrets(dataDir string) (*secrets, error) {
	dir := filepath.Join(dataDir, "keystore", "passwords")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("create keystore: %w", err)
	}
	return &secrets{dir: dir}, nil
}

// newSecret returns 128 random bits in hex and the hex SHA-256 of it.
func (*secrets) newSecret() (value, hash string, err error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", "", fmt.Errorf("random secret: %w", err)
	}
	value = hex.EncodeToString(b[:])
	return value, hashSecret(value), nil
}

func hashSecret(v string) string {
	sum := sha256.Sum256([]byte(v))
	return hex.EncodeToString(sum[:])
}

func (*secrets) checkPolicy(pw string) error {
	if utf8.RuneCountInString(pw) < MinPasswordLen {
		return fmt.Errorf("password too short: use at least %d characters", MinPasswordLen)
	}
	if len(pw) > 1024 {
		return errors.New("password too long: use at most 1024 bytes")
	}
	return nil
}

func (s *secrets) path(user string) string {
	return filepath.Join(s.dir, eventlog.Token(user))
}

func (s *secrets) setPassword(user, pw string) error {
	var salt [16]byte
	if _, err := rand.Read(salt[:]); err != nil {
		return fmt.Errorf("random salt: %w", err)
	}
	sum := argon2.IDKey([]byte(pw), salt[:], argonTime, argonMemory, argonThreads, argonKeyLen)
	enc := fmt.Sprintf("$argon2id$v=19$m=%d,t=%d,p=%d$%s$%s", argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt[:]), base64.RawStdEncoding.EncodeToString(sum))
	tmp := s.path(user) + ".tmp"
	if err := os.WriteFile(tmp, []byte(enc), 0o600); err != nil {
		return fmt.Errorf("store password hash: %w", err)
	}
	if err := os.Rename(tmp, s.path(user)); err != nil {
		return fmt.Errorf("store password hash: %w", err)
	}
	return nil
}

func (s *secrets) checkPassword(user, pw string) bool {
	raw, err := os.ReadFile(s.path(user))
	if err != nil {
		return false
	}
	parts := strings.Split(string(raw), "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var m uint32
	var t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

func (s *secrets) deletePassword(user string) error {
	if err := os.Remove(s.path(user)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("remove password hash: %w", err)
	}
	return nil
}
