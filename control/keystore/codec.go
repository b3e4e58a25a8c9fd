package keystore

import (
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
)

// MaxName bounds a key id or secret name (bytes, before any encoding).
const MaxName = 200

// CheckName refuses a name no store keeps: empty, or over MaxName bytes.
func CheckName(name string) error {
	if name == "" {
		return errors.New("keystore: empty name")
	}
	if len(name) > MaxName {
		return fmt.Errorf("keystore: name longer than %d bytes", MaxName)
	}
	return nil
}

// EncodeKey is how every store keeps a private key: PKCS#8 in PEM.
func EncodeKey(keyID string, key crypto.Signer) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode key %s: %w", keyID, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// DecodeKey reads what EncodeKey wrote.
func DecodeKey(keyID string, data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil || block.Type != "PRIVATE KEY" {
		return nil, fmt.Errorf("key %s: damaged keystore record (no PKCS#8 PEM block)", keyID)
	}
	k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("key %s: damaged keystore record: %w", keyID, err)
	}
	signer, ok := k.(crypto.Signer)
	if !ok {
		return nil, fmt.Errorf("key %s: not a signing key", keyID)
	}
	return signer, nil
}
