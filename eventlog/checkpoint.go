package eventlog

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Checkpoint signature algorithms (the "alg" of an audit.checkpoint).
const (
	SigECDSA   = "ECDSA-SHA256"        // ASN.1 DER signature over SHA-256 of the message
	SigRSA     = "RSA-PKCS1v15-SHA256" // PKCS #1 v1.5 over SHA-256 of the message
	SigEd25519 = "Ed25519"             // over the message itself
)

// ErrBadSignature means a checkpoint signature does not verify.
var ErrBadSignature = errors.New("checkpoint signature does not verify")

// checkpointDomain starts every signed checkpoint message, so that the
// signature can never be taken for one over anything else the host key
// signs (TLS handshakes sign other, prefixed, content).
const checkpointDomain = "tollgate-checkpoint-v1\n"

// CheckpointMessage returns the bytes an audit checkpoint signs. This
// definition is a contract with external (SIEM) verifiers:
//
//	"tollgate-checkpoint-v1\n" + {"source":S,"seq":N,"hash":H,"time":T}
//
// the JSON compact, keys in this order, strings escaped as encoding/json
// does without HTML escaping, N a decimal integer, T the time in UTC as RFC
// 3339 with nanoseconds and trailing fractional zeros removed (as the
// checkpoint's "time" is stored).
func CheckpointMessage(source string, seq uint64, hash string, t time.Time) []byte {
	var buf bytes.Buffer
	buf.WriteString(checkpointDomain)
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	// Encoding a struct of strings and an integer cannot fail.
	_ = enc.Encode(struct {
		Source string `json:"source"`
		Seq    uint64 `json:"seq"`
		Hash   string `json:"hash"`
		Time   string `json:"time"`
	}{source, seq, hash, t.UTC().Format(time.RFC3339Nano)})
	b := buf.Bytes()
	return b[:len(b)-1] // Encode appends a newline
}

// SignCheckpoint signs msg (a CheckpointMessage) with key and returns the
// algorithm name and the signature.
func SignCheckpoint(key crypto.Signer, msg []byte) (string, []byte, error) {
	sum := sha256.Sum256(msg)
	switch key.Public().(type) {
	case *ecdsa.PublicKey:
		sig, err := key.Sign(rand.Reader, sum[:], crypto.SHA256)
		if err != nil {
			return "", nil, fmt.Errorf("sign checkpoint: %w", err)
		}
		return SigECDSA, sig, nil
	case *rsa.PublicKey:
		sig, err := key.Sign(rand.Reader, sum[:], crypto.SHA256)
		if err != nil {
			return "", nil, fmt.Errorf("sign checkpoint: %w", err)
		}
		return SigRSA, sig, nil
	case ed25519.PublicKey:
		sig, err := key.Sign(rand.Reader, msg, crypto.Hash(0))
		if err != nil {
			return "", nil, fmt.Errorf("sign checkpoint: %w", err)
		}
		return SigEd25519, sig, nil
	default:
		return "", nil, fmt.Errorf("sign checkpoint: unsupported key type %T", key.Public())
	}
}

// VerifyCheckpoint checks sig over msg with pub under alg. A mismatch
// (wrong key, altered message or signature, alg not matching the key) is
// ErrBadSignature.
func VerifyCheckpoint(pub crypto.PublicKey, alg string, msg, sig []byte) error {
	sum := sha256.Sum256(msg)
	ok := false
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		ok = alg == SigECDSA && ecdsa.VerifyASN1(k, sum[:], sig)
	case *rsa.PublicKey:
		ok = alg == SigRSA && rsa.VerifyPKCS1v15(k, crypto.SHA256, sum[:], sig) == nil
	case ed25519.PublicKey:
		ok = alg == SigEd25519 && ed25519.Verify(k, msg, sig)
	default:
		return fmt.Errorf("verify checkpoint: unsupported key type %T", pub)
	}
	if !ok {
		return ErrBadSignature
	}
	return nil
}
