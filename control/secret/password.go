package secret

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Password policy bounds.
const (
	MinPasswordLen = 12   // characters
	MaxPasswordLen = 1024 // bytes
)

// argon2id parameters (RFC 9106 §4, second recommended option, 64 MiB).
const (
	argonTime    = 3
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 4
	argonKeyLen  = 32
	argonSaltLen = 16
)

// ErrWeakPassword is wrapped by CheckPolicy's errors.
var ErrWeakPassword = errors.New("password does not meet the policy")

// ErrMalformedHash is returned by VerifyPassword for a hash it cannot read.
var ErrMalformedHash = errors.New("malformed password hash")

// CheckPolicy says whether pw may be used as a password. The error says
// what to change and never contains the password.
func CheckPolicy(pw string) error {
	if n := utf8.RuneCountInString(pw); n < MinPasswordLen {
		return fmt.Errorf("%w: too short (%d characters): use at least %d characters", ErrWeakPassword, n, MinPasswordLen)
	}
	if len(pw) > MaxPasswordLen {
		return fmt.Errorf("%w: too long: use at most %d bytes", ErrWeakPassword, MaxPasswordLen)
	}
	if !utf8.ValidString(pw) {
		return fmt.Errorf("%w: not valid UTF-8", ErrWeakPassword)
	}
	if strings.TrimSpace(pw) == "" {
		return fmt.Errorf("%w: only whitespace", ErrWeakPassword)
	}
	return nil
}

// HashPassword returns the argon2id hash of pw with a fresh random salt,
// encoded as `$argon2id$v=19$m=65536,t=3,p=4$<salt b64>$<hash b64>`
// (PHC string format, unpadded standard base64). It does not check the
// policy; call CheckPolicy first.
func HashPassword(pw string) (string, error) {
	if len(pw) > MaxPasswordLen {
		return "", fmt.Errorf("hash password: %w: too long: use at most %d bytes", ErrWeakPassword, MaxPasswordLen)
	}
	salt := make([]byte, argonSaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("random salt: %w", err)
	}
	sum := argon2.IDKey([]byte(pw), salt, argonTime, argonMemory, argonThreads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, argonMemory, argonTime, argonThreads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(sum)), nil
}

// VerifyPassword reports whether pw matches hash (from HashPassword), in
// constant time. A hash it cannot read is ErrMalformedHash; parameters out
// of sane bounds are refused rather than computed.
func VerifyPassword(hash, pw string) (bool, error) {
	p, salt, want, err := parseHash(hash)
	if err != nil {
		return false, err
	}
	if len(pw) > MaxPasswordLen {
		return false, nil
	}
	got := argon2.IDKey([]byte(pw), salt, p.t, p.m, p.p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

type argonParams struct {
	m, t uint32
	p    uint8
}

func parseHash(hash string) (argonParams, []byte, []byte, error) {
	var p argonParams
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, fmt.Errorf("%w: not an argon2id PHC string", ErrMalformedHash)
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, fmt.Errorf("%w: unsupported argon2 version", ErrMalformedHash)
	}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, ok := strings.Cut(kv, "=")
		n, err := strconv.ParseUint(v, 10, 32)
		if !ok || err != nil {
			return p, nil, nil, fmt.Errorf("%w: bad parameter", ErrMalformedHash)
		}
		switch k {
		case "m":
			p.m = uint32(n)
		case "t":
			p.t = uint32(n)
		case "p":
			if n > 255 {
				return p, nil, nil, fmt.Errorf("%w: bad parameter", ErrMalformedHash)
			}
			p.p = uint8(n)
		default:
			return p, nil, nil, fmt.Errorf("%w: unknown parameter", ErrMalformedHash)
		}
	}
	if p.m < 8*1024 || p.m > 1024*1024 || p.t < 1 || p.t > 16 || p.p < 1 || p.p > 16 {
		return p, nil, nil, fmt.Errorf("%w: parameters out of bounds", ErrMalformedHash)
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	sum, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(sum) < 16 || len(sum) > 64 {
		return p, nil, nil, fmt.Errorf("%w: bad salt or hash", ErrMalformedHash)
	}
	return p, salt, sum, nil
}
