package syslog

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/tollgate-db/tollgate/export"
)

// Severity used for every message: informational.
const severityInfo = 6

// Sink writes RFC 5424 messages to one syslog server.
type Sink struct {
	cfg     Config
	tlsConf *tls.Config
	host    string
	mu      sync.Mutex
	conn    net.Conn
	w       *bufio.Writer
	buf     []byte
}

var _ export.Sink = (*Sink)(nil)

// New checks cfg (zero values take the defaults; an address that is not
// HOST:PORT or a facility out of 0..23 is an error naming the field) and
// loads its TLS files; it connects on the first Write.
func New(cfg Config) (*Sink, error) {
	cfg.fill()
	if err := cfg.check(Type, Type); err != nil {
		return nil, err
	}
	s := &Sink{cfg: cfg, host: cfg.Hostname}
	if s.host == "" {
		h, err := os.Hostname()
		if err != nil || h == "" {
			h = "-"
		}
		s.host = h
	}
	if cfg.TLS {
		tc := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: cfg.ServerName}
		if tc.ServerName == "" {
			tc.ServerName, _, _ = net.SplitHostPort(cfg.Addr)
		}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("syslog sink: read ca_file: %w", err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("syslog sink: ca_file %s holds no PEM certificate", cfg.CAFile)
			}
			tc.RootCAs = pool
		}
		if cfg.CertFile != "" {
			c, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
			if err != nil {
				return nil, fmt.Errorf("syslog sink: load client cert: %w", err)
			}
			tc.Certificates = []tls.Certificate{c}
		}
		s.tlsConf = tc
	}
	return s, nil
}

func (s *Sink) connect(ctx context.Context) error {
	d := net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}
	var (
		c   net.Conn
		err error
	)
	if s.tlsConf != nil {
		td := tls.Dialer{NetDialer: &d, Config: s.tlsConf}
		c, err = td.DialContext(ctx, "tcp", s.cfg.Addr)
	} else {
		c, err = d.DialContext(ctx, "tcp", s.cfg.Addr)
	}
	if err != nil {
		return fmt.Errorf("syslog connect %s: %w", s.cfg.Addr, err)
	}
	s.conn = c
	s.w = bufio.NewWriterSize(c, 64<<10)
	return nil
}

// Write sends every item as one framed message and flushes.
func (s *Sink) Write(ctx context.Context, batch []export.Item) error {
	if len(batch) == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		if err := s.connect(ctx); err != nil {
			return err
		}
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = s.conn.SetWriteDeadline(dl)
	} else {
		_ = s.conn.SetWriteDeadline(time.Now().Add(30 * time.Second))
	}
	for i := range batch {
		s.buf = AppendMessage(s.buf[:0], s.cfg.Facility, s.host, s.cfg.AppName, &batch[i])
		s.w.WriteString(strconv.Itoa(len(s.buf)))
		s.w.WriteByte(' ')
		if _, err := s.w.Write(s.buf); err != nil {
			return s.drop(fmt.Errorf("syslog write: %w", err))
		}
	}
	if err := s.w.Flush(); err != nil {
		return s.drop(fmt.Errorf("syslog write: %w", err))
	}
	return nil
}

func (s *Sink) drop(err error) error {
	_ = s.conn.Close()
	s.conn, s.w = nil, nil
	return err
}

// Close closes the connection.
func (s *Sink) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn == nil {
		return nil
	}
	err := s.w.Flush()
	if cerr := s.conn.Close(); err == nil {
		err = cerr
	}
	s.conn, s.w = nil, nil
	return err
}

// AppendMessage appends the RFC 5424 message of it (without framing):
// <PRI>1 TIMESTAMP HOSTNAME APP-NAME - MSGID [tollgate@32473 id="…" stream="…"] MSG
func AppendMessage(b []byte, facility int, host, app string, it *export.Item) []byte {
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(facility*8+severityInfo), 10)
	b = append(b, ">1 "...)
	b = it.Event.Time.UTC().AppendFormat(b, "2006-01-02T15:04:05.000000Z07:00")
	b = append(b, ' ')
	b = appendToken(b, host, 255)
	b = append(b, ' ')
	b = appendToken(b, app, 48)
	b = append(b, " - "...)
	b = appendToken(b, it.Event.Type, 32)
	b = append(b, ` [tollgate@32473 id="`...)
	b = appendParam(b, it.Event.ID)
	b = append(b, `" stream="`...)
	b = appendParam(b, it.Stream)
	b = append(b, `"] `...)
	return append(b, it.Doc...)
}

// appendToken appends a header field: printable US-ASCII, no space, at
// most max bytes; "-" when empty.
func appendToken(b []byte, s string, max int) []byte {
	if s == "" {
		return append(b, '-')
	}
	n := 0
	for i := 0; i < len(s) && n < max; i++ {
		c := s[i]
		if c < 33 || c > 126 {
			c = '_'
		}
		b = append(b, c)
		n++
	}
	return b
}

// appendParam escapes '"', '\' and ']' in a PARAM-VALUE.
func appendParam(b []byte, s string) []byte {
	if !strings.ContainsAny(s, `"\]`) {
		return append(b, s...)
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' || c == ']' {
			b = append(b, '\\')
		}
		b = append(b, s[i])
	}
	return b
}
