package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/tollgate-db/tollgate/control/pki"
	"github.com/tollgate-db/tollgate/control/wire"
)

// ErrPinMismatch means the cluster's host CA is not the pinned one.
var ErrPinMismatch = errors.New("the cluster's host CA does not match --ca-pin")

// NewKey makes an ECDSA P-256 key: its PKCS#8 PEM (keep it 0600) and the
// PKIX public key PEM to send for a cert.
func NewKey() (keyPEM, pubPEM []byte, err error) {
	k, err := pki.GenerateKey(pki.AlgECDSAP256)
	if err != nil {
		return nil, nil, err
	}
	if keyPEM, err = pki.EncodeKeyPEM(k); err != nil {
		return nil, nil, err
	}
	pder, err := x509.MarshalPKIXPublicKey(k.Public())
	if err != nil {
		return nil, nil, err
	}
	return keyPEM, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pder}), nil
}

// Contact is what first contact learned: the cluster and its host CAs.
type Contact struct {
	Ping      wire.Ping
	HostCAPEM []byte
	Pin       string
}

// FirstContact fetches the cluster's host CAs without trusting anything,
// then checks them: with pin, one of them must have it; with insecure, any
// is accepted (trust on first use). Neither is an error asking for one.
// The answer is then re-fetched over a connection verified against those
// CAs, so the server really holds a cert of that CA.
func FirstContact(ctx context.Context, proxy, pin string, insecure bool) (Contact, error) {
	if pin == "" && !insecure {
		return Contact{}, errors.New("first contact with this cluster: pass --ca-pin=sha256:… (from tollctl status on the control host) or --insecure")
	}
	raw := New(proxy, &tls.Config{InsecureSkipVerify: true}) //nolint:gosec // checked against the pin below
	defer raw.Close()
	p, err := raw.Ping(ctx)
	if err != nil {
		return Contact{}, err
	}
	var pins []string
	for _, c := range p.HostCAPEM {
		pp, err := pki.Pin([]byte(c))
		if err != nil {
			return Contact{}, fmt.Errorf("cluster sent a bad host CA: %w", err)
		}
		pins = append(pins, pp)
	}
	if len(pins) == 0 {
		return Contact{}, errors.New("cluster sent no host CA")
	}
	match := insecure
	for _, pp := range pins {
		if pp == strings.ToLower(strings.TrimSpace(pin)) {
			match = true
		}
	}
	if !match {
		return Contact{}, fmt.Errorf("%w: got %s; check the pin with tollctl status", ErrPinMismatch, strings.Join(pins, ", "))
	}
	bundle := []byte(strings.Join(p.HostCAPEM, ""))
	pool, err := PoolOf(bundle)
	if err != nil {
		return Contact{}, err
	}
	verified := New(proxy, &tls.Config{RootCAs: pool})
	defer verified.Close()
	if p, err = verified.Ping(ctx); err != nil {
		return Contact{}, fmt.Errorf("verify control's certificate: %w", err)
	}
	return Contact{Ping: p, HostCAPEM: bundle, Pin: pins[0]}, nil
}

// Anonymous returns a client trusting hostCAPEM with no client cert (for
// login and signup).
func Anonymous(proxy string, hostCAPEM []byte) (*Client, error) {
	pool, err := PoolOf(hostCAPEM)
	if err != nil {
		return nil, err
	}
	return New(proxy, &tls.Config{RootCAs: pool}), nil
}
