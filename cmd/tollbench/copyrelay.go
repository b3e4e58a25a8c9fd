package main

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// copyRelay is the reference a gateway is measured against besides the
// direct connection: a bare Go TLS-terminating relay (SSLRequest on both
// sides, then io.Copy each way, no framing, no audit) — DESIGN §9's
// "naive Go relay … bare copy". It runs in tollbench's own process.
type copyRelay struct {
	ln       net.Listener
	upstream string
	upTLS    *tls.Config
}

var sslRequest = []byte{0, 0, 0, 8, 4, 0xd2, 0x16, 0x2f}

// startCopyRelay serves srv (a server cert for 127.0.0.1) and dials
// upstream with upTLS.
func startCopyRelay(ctx context.Context, upstream string, srv pemPair, upTLS *tls.Config) (*copyRelay, error) {
	cert, err := srv.tls()
	if err != nil {
		return nil, err
	}
	srvTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	r := &copyRelay{upstream: upstream, upTLS: upTLS}
	if r.ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
		return nil, err
	}
	go func() {
		<-ctx.Done()
		r.ln.Close()
	}()
	go func() {
		for {
			c, err := r.ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c, srvTLS)
		}
	}()
	return r, nil
}

func (r *copyRelay) port() string {
	_, p, _ := net.SplitHostPort(r.ln.Addr().String())
	return p
}

func (r *copyRelay) serve(c net.Conn, srvTLS *tls.Config) {
	defer c.Close()
	var req [8]byte
	if _, err := io.ReadFull(c, req[:]); err != nil || string(req[:]) != string(sslRequest) {
		return
	}
	if _, err := c.Write([]byte{'S'}); err != nil {
		return
	}
	client := tls.Server(c, srvTLS)
	if err := client.Handshake(); err != nil {
		return
	}
	server, err := r.dialUpstream()
	if err != nil {
		return
	}
	defer server.Close()
	go func() {
		_, _ = io.Copy(server, client)
		server.Close()
	}()
	_, _ = io.Copy(client, server)
}

func (r *copyRelay) dialUpstream() (net.Conn, error) {
	s, err := net.DialTimeout("tcp", r.upstream, 10*time.Second)
	if err != nil {
		return nil, err
	}
	var resp [1]byte
	if _, err := s.Write(sslRequest); err != nil {
		s.Close()
		return nil, err
	}
	if _, err := io.ReadFull(s, resp[:]); err != nil || resp[0] != 'S' {
		s.Close()
		return nil, errors.Join(err, fmt.Errorf("server declined TLS"))
	}
	t := tls.Client(s, r.upTLS)
	if err := t.Handshake(); err != nil {
		s.Close()
		return nil, err
	}
	return t, nil
}
