package sso

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrSealed is the failure to open a sealed value: forged, damaged,
// sealed with another key, or expired.
var ErrSealed = errors.New("sealed value not valid")

// KeySize is the size of a sealing key (AES-256).
const KeySize = 32

// Sealer seals values for a while: what comes back before it expires, and
// unchanged, opens; anything else does not.
type Sealer struct{ aead cipher.AEAD }

// NewSealer returns a sealer with key (KeySize bytes).
func NewSealer(key []byte) (*Sealer, error) {
	if len(key) != KeySize {
		return nil, fmt.Errorf("sealing key is %d bytes, not %d", len(key), KeySize)
	}
	b, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	a, err := cipher.NewGCM(b)
	if err != nil {
		return nil, err
	}
	return &Sealer{aead: a}, nil
}

type envelope struct {
	Purpose string          `json:"p"`
	Expires time.Time       `json:"e"`
	Value   json.RawMessage `json:"v"`
}

// Seal returns v sealed for purpose until expires, as URL-safe text.
func (s *Sealer) Seal(purpose string, expires time.Time, v any) (string, error) {
	raw, err := json.Marshal(v)
	if err != nil {
		return "", err
	}
	plain, err := json.Marshal(envelope{Purpose: purpose, Expires: expires.UTC(), Value: raw})
	if err != nil {
		return "", err
	}
	nonce := make([]byte, s.aead.NonceSize(), s.aead.NonceSize()+len(plain)+s.aead.Overhead())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(s.aead.Seal(nonce, nonce, plain, []byte(purpose))), nil
}

// Open opens text sealed for purpose into v, if now is before its expiry.
func (s *Sealer) Open(purpose, text string, now time.Time, v any) error {
	b, err := base64.RawURLEncoding.DecodeString(text)
	if err != nil || len(b) < s.aead.NonceSize() {
		return ErrSealed
	}
	plain, err := s.aead.Open(nil, b[:s.aead.NonceSize()], b[s.aead.NonceSize():], []byte(purpose))
	if err != nil {
		return ErrSealed
	}
	var env envelope
	if err := json.Unmarshal(plain, &env); err != nil || env.Purpose != purpose {
		return ErrSealed
	}
	if !now.Before(env.Expires) {
		return fmt.Errorf("%w: expired at %s", ErrSealed, env.Expires.Format(time.RFC3339))
	}
	if err := json.Unmarshal(env.Value, v); err != nil {
		return ErrSealed
	}
	return nil
}
