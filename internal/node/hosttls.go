package node

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// reloadingTLS is a client TLS config with the agent's identity in dir
// (join.Dir): it reads the host CA bundle, the host cert and its key at
// every handshake, so reconnects follow host CA rotations and host cert
// renewals (the gateway keeps the files current). It verifies the server
// as serverName, or ("") as the name the connection was dialed by.
func reloadingTLS(dir, serverName string) *tls.Config {
	caFile, certFile, keyFile := filepath.Join(dir, "host-ca.pem"), filepath.Join(dir, "host.crt"), filepath.Join(dir, "host.key")
	return &tls.Config{
		MinVersion: tls.VersionTLS12,
		GetClientCertificate: func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			c, err := tls.LoadX509KeyPair(certFile, keyFile)
			if err != nil {
				return nil, fmt.Errorf("load the host cert: %w", err)
			}
			return &c, nil
		},
		// Verified below against the file as it is now.
		InsecureSkipVerify: true,
		VerifyConnection: func(cs tls.ConnectionState) error {
			pem, err := os.ReadFile(caFile)
			if err != nil {
				return fmt.Errorf("read the host CA: %w", err)
			}
			roots := x509.NewCertPool()
			if !roots.AppendCertsFromPEM(pem) {
				return errors.New("the host CA file holds no certificate")
			}
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the hub presented no certificate")
			}
			inter := x509.NewCertPool()
			for _, c := range cs.PeerCertificates[1:] {
				inter.AddCert(c)
			}
			name := serverName
			if name == "" {
				name = cs.ServerName
			}
			_, err = cs.PeerCertificates[0].Verify(x509.VerifyOptions{DNSName: name, Roots: roots, Intermediates: inter})
			return err
		},
	}
}
