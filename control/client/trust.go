package client

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"strings"
	"time"
)

// TrustError is a failure to verify control's TLS certificate: it names
// what the certificate says and what to check. Err is the x509 error.
type TrustError struct {
	// Addr is control's HOST:PORT.
	Addr string
	// Cert is the certificate control presented (nil if unknown).
	Cert *x509.Certificate
	Err  error
}

func (e *TrustError) Unwrap() error { return e.Err }

func (e *TrustError) Error() string {
	var (
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	switch {
	case errors.As(e.Err, &ua):
		return fmt.Sprintf("control at %s presented a certificate from %s, which this identity does not trust (%v). "+
			"Check: was the cluster's host CA rotated (tollctl status shows its pin and rotation phase)? Is %s the cluster you "+
			"logged in to? Log in again with the current host CA pin: toll login --proxy=%s --user=NAME --ca-pin=sha256:… "+
			"(the pin from tollctl status on the control host)", e.Addr, issuerText(e.Cert), e.Err, e.Addr, e.Addr)
	case errors.As(e.Err, &he):
		names := "no name"
		if he.Certificate != nil {
			names = strings.Join(append(append([]string{}, he.Certificate.DNSNames...), ipStrings(he.Certificate)...), ", ")
		}
		return fmt.Sprintf("control's certificate is not valid for %q (it names %s): reach control by one of those names, "+
			"or add the name to control.public_addr and restart control (%v)", he.Host, names, e.Err)
	case errors.As(e.Err, &ci) && ci.Reason == x509.Expired:
		return fmt.Sprintf("control at %s presented a certificate that is expired or not yet valid at this machine's time %s (%v): "+
			"check the clocks of this machine and of control", e.Addr, time.Now().UTC().Format(time.RFC3339), e.Err)
	}
	return fmt.Sprintf("verify control's certificate at %s: %v (check --proxy and the host CA pin: tollctl status)", e.Addr, e.Err)
}

// issuerText names a cert's issuer: its CN and the cluster in its O.
func issuerText(c *x509.Certificate) string {
	if c == nil {
		return "an unknown CA"
	}
	s := fmt.Sprintf("%q", c.Issuer.CommonName)
	if len(c.Issuer.Organization) > 0 && c.Issuer.Organization[0] != "" {
		s += fmt.Sprintf(" of cluster %q", c.Issuer.Organization[0])
	}
	return s
}

func ipStrings(c *x509.Certificate) []string {
	out := make([]string, len(c.IPAddresses))
	for i, ip := range c.IPAddresses {
		out[i] = ip.String()
	}
	return out
}

// trustError turns a TLS verification failure in err into a *TrustError
// for addr; any other error is returned as is.
func trustError(addr string, err error) error {
	var cve *tls.CertificateVerificationError
	if errors.As(err, &cve) {
		te := &TrustError{Addr: addr, Err: cve.Err}
		if len(cve.UnverifiedCertificates) > 0 {
			te.Cert = cve.UnverifiedCertificates[0]
		}
		return te
	}
	var (
		ua x509.UnknownAuthorityError
		he x509.HostnameError
		ci x509.CertificateInvalidError
	)
	if errors.As(err, &ua) || errors.As(err, &he) || errors.As(err, &ci) {
		return &TrustError{Addr: addr, Err: err}
	}
	return err
}
