package keystore

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"syscall"
)

// SealKeySize is the size of a seal key file: 32 random bytes (AES-256).
const SealKeySize = 32

// sealMagic starts every sealed file.
var sealMagic = []byte("TGSEAL1\n")

// Sealer seals and opens records with AES-256-GCM under a seal key. The
// file store seals its files with it, the NATS KV store its values.
type Sealer struct{ aead cipher.AEAD }

// LoadSealKey reads the 32-byte seal key in path (refused when others may
// read it). When create is true and path does not exist, a new random key
// is written there (0600); otherwise a missing file is an error.
func LoadSealKey(path string, create bool) (*Sealer, error) {
	key, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) && create {
		key = make([]byte, SealKeySize)
		if _, err := io.ReadFull(rand.Reader, key); err != nil {
			return nil, fmt.Errorf("random seal key: %w", err)
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return nil, fmt.Errorf("create seal key file: %w", err)
		}
		if _, err := f.Write(key); err != nil {
			_ = f.Close()
			return nil, fmt.Errorf("write seal key file: %w", err)
		}
		if err := f.Close(); err != nil {
			return nil, fmt.Errorf("write seal key file: %w", err)
		}
	} else if err != nil {
		return nil, fmt.Errorf("read seal key file (create it with the keystore's create option): %w", err)
	} else {
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("seal key file: %w", err)
		}
		if !privateMode(fi) {
			return nil, fmt.Errorf("seal key file %s is readable by others (mode %o): chmod 600 it "+
				"(640 is accepted when the file's group is one of this process's, as Kubernetes mounts a Secret for a pod's fsGroup)", path, fi.Mode().Perm())
		}
	}
	if len(key) != SealKeySize {
		return nil, fmt.Errorf("seal key file %s: want exactly %d bytes, have %d", path, SealKeySize, len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, fmt.Errorf("seal key: %w", err)
	}
	return &Sealer{aead: aead}, nil
}

// privateMode reports whether only this process's user can read the key
// file, or its user and a group of this process (mode 0640 or less with
// the file in one of the process's groups: a Kubernetes Secret mounted for
// the pod's fsGroup is 0440 root:fsGroup). Nobody else may read or write it.
func privateMode(fi os.FileInfo) bool {
	perm := fi.Mode().Perm()
	if perm&0o037 != 0 {
		return false
	}
	if perm&0o040 == 0 {
		return true
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return false
	}
	if int(st.Gid) == os.Getegid() {
		return true
	}
	groups, err := os.Getgroups()
	return err == nil && slices.Contains(groups, int(st.Gid))
}

// IsSealed reports whether data starts as a sealed record does.
func IsSealed(data []byte) bool { return bytes.HasPrefix(data, sealMagic) }

// Seal returns magic | nonce | ciphertext, with ad (the record's kind and
// name, SealAD) bound as additional data.
func (s *Sealer) Seal(ad string, plain []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, fmt.Errorf("random nonce: %w", err)
	}
	out := append(append([]byte{}, sealMagic...), nonce...)
	return s.aead.Seal(out, nonce, plain, []byte(ad)), nil
}

// Open returns the clear bytes of a record Seal made with the same ad; a
// record that is not sealed, or does not open with this key, is ErrSealed.
func (s *Sealer) Open(ad string, data []byte) ([]byte, error) {
	if !IsSealed(data) {
		return nil, fmt.Errorf("%s is not sealed: %w", ad, ErrSealed)
	}
	data = data[len(sealMagic):]
	if len(data) < s.aead.NonceSize()+s.aead.Overhead() {
		return nil, fmt.Errorf("sealed %s: too short: %w", ad, ErrSealed)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, data[:n], data[n:], []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("sealed %s does not open with this seal key (wrong key, or damaged or moved file): %w", ad, ErrSealed)
	}
	return plain, nil
}

// SealAD is the additional data a record of kind (KindKey, KindSecret) and
// name is sealed with, so that a sealed record moved to another name does
// not open.
func SealAD(kind, name string) string { return kind + "/" + name }
