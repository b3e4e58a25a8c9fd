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

type sealer struct{ aead cipher.AEAD }

func loadSealKey(path string, create bool) (*sealer, error) {
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
	return &sealer{aead: aead}, nil
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

func isSealed(data []byte) bool { return bytes.HasPrefix(data, sealMagic) }

// seal returns magic | nonce | ciphertext, with ad bound as additional data.
func (s *sealer) seal(ad string, plain []byte) ([]byte, error) {
	nonce := make([]byte, s.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		return nil, fmt.Errorf("random nonce: %w", err)
	}
	out := append(append([]byte{}, sealMagic...), nonce...)
	return s.aead.Seal(out, nonce, plain, []byte(ad)), nil
}

func (s *sealer) open(ad string, data []byte) ([]byte, error) {
	data = data[len(sealMagic):]
	if len(data) < s.aead.NonceSize()+s.aead.Overhead() {
		return nil, fmt.Errorf("sealed %s: file too short: %w", ad, ErrSealed)
	}
	n := s.aead.NonceSize()
	plain, err := s.aead.Open(nil, data[:n], data[n:], []byte(ad))
	if err != nil {
		return nil, fmt.Errorf("sealed %s does not open with this seal key (wrong key, or damaged or moved file): %w", ad, ErrSealed)
	}
	return plain, nil
}
