package secret

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
)

// TokenBytes is the number of random bytes in a token or invite (128 bits).
const TokenBytes = 16

// NewToken returns a fresh join token: value is 128 random bits in hex (32
// characters), shown once to the admin; hash is HashToken(value), the only
// form ever stored or logged.
func NewToken() (value, hash string) {
	b := make([]byte, TokenBytes)
	_, _ = rand.Read(b) // crypto/rand.Read never fails (it crashes the program instead)
	value = hex.EncodeToString(b)
	return value, HashToken(value)
}

// HashToken returns the hex SHA-256 of a token or invite value.
func HashToken(value string) string {
	sum := sha256.Sum256([]byte(value))
	return hex.EncodeToString(sum[:])
}

// MatchToken reports, in constant time, whether value hashes to hash.
func MatchToken(value, hash string) bool {
	return subtle.ConstantTimeCompare([]byte(HashToken(value)), []byte(hash)) == 1
}

// NewInvite returns a fresh signup invite; same form as NewToken.
func NewInvite() (value, hash string) { return NewToken() }

// HashInvite returns the hex SHA-256 of an invite value.
func HashInvite(value string) string { return HashToken(value) }
