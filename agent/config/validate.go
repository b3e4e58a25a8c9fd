package config

import (
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
)

// Limits of max_message_size: PostgreSQL's own message limit is 1 GiB.
const (
	MinMaxMessageSize = 8 << 10
	MaxMaxMessageSize = 1 << 30
)

// MinSpoolMaxBytes is the least spool_max_bytes: room for a few events of
// the maximum size (64 KiB).
const MinSpoolMaxBytes = 256 << 10

func (f *File) validate() error {
	var errs []error
	add := func(e *FieldError) {
		if e != nil {
			errs = append(errs, e)
		}
	}
	f.Tollgate.validate(path{"tollgate"}, add)
	s := &f.DBService
	p := path{"db_service"}
	s.validateListeners(p, add)
	s.validateLimits(p, add)
	seen := map[string]int{}
	for i, d := range s.Databases {
		dp := p.key("databases").index(i)
		if validName(d.Name) { // a missing or bad name is d.validate's
			if prev, dup := seen[d.Name]; dup {
				add(dp.key("name").errorf("%q is already used by db_service.databases[%d]", d.Name, prev))
			}
			seen[d.Name] = i
		}
		d.validate(dp, add)
	}
	for i, r := range s.Resources {
		r.validate(p.key("resources").index(i), add)
	}
	return errors.Join(errs...)
}

func (j *Join) validate(p path, add func(*FieldError)) {
	if j.ProxyServer != "" {
		add(checkProxies(p.key("proxy_server"), j.ProxyServer))
	}
	if j.CAPin != "" {
		add(checkPin(p.key("ca_pin"), j.CAPin))
	}
}

func (s *DBService) validateListeners(p path, add func(*FieldError)) {
	if Off(s.ListenAddr) {
		if s.Tunnel != nil && !*s.Tunnel {
			add(p.key("listen_addr").errorf("none needs the tunnel (clients reach this agent only through it): remove tunnel: false, or give a HOST:PORT"))
		}
	} else {
		add(checkHostPort(p.key("listen_addr"), s.ListenAddr, true))
	}
	if !Off(s.MetricsAddr) {
		add(checkHostPort(p.key("metrics_addr"), s.MetricsAddr, true))
	}
	if s.PublicAddr != "" {
		add(checkHostPort(p.key("public_addr"), s.PublicAddr, false))
	}
}

// validateLimits checks the modes, sizes, durations and counts.
func (s *DBService) validateLimits(p path, add func(*FieldError)) {
	if s.AuditMode != AuditStrict && s.AuditMode != AuditAsync {
		add(p.key("audit_mode").errorf("must be strict or async, got %q", s.AuditMode))
	}
	if s.SpoolSync != SpoolSyncInterval && s.SpoolSync != SpoolSyncAlways {
		add(p.key("spool_sync").errorf("must be interval or always, got %q", s.SpoolSync))
	}
	if s.SpoolMaxBytes < MinSpoolMaxBytes {
		add(p.key("spool_max_bytes").errorf("must be at least 256KiB, got %d bytes", int64(s.SpoolMaxBytes)))
	}
	if s.MaxMessageSize < MinMaxMessageSize || s.MaxMessageSize > MaxMaxMessageSize {
		add(p.key("max_message_size").errorf("must be between 8KiB and 1GiB, got %d bytes", int64(s.MaxMessageSize)))
	}
	if s.HandshakeTimeout < 0 {
		add(p.key("handshake_timeout").errorf("must be positive, got %s", s.HandshakeTimeout))
	}
	if s.CheckpointInterval <= 0 || s.CheckpointInterval > MaxCheckpointInterval {
		add(p.key("checkpoint_interval").errorf("must be between 0s and %s, got %s", MaxCheckpointInterval, s.CheckpointInterval))
	}
	if s.IdleTimeout < 0 {
		add(p.key("idle_timeout").errorf("must be 0 (none) or positive, got %s", s.IdleTimeout))
	}
	if s.MaxConnections < 0 {
		add(p.key("max_connections").errorf("must be positive, got %d", s.MaxConnections))
	}
	s.AuditLeaf.validate(p.key("audit_leaf"), add)
}

func (l AuditLeaf) validate(p path, add func(*FieldError)) {
	if !l.Enabled() {
		if l.HubDomain != "" || l.MaxBytes != 0 {
			add(p.key("hub_url").errorf("is required with hub_domain or max_bytes (control's nats.leaf_listen_addr, e.g. tls://control.example.com:7423)"))
		}
		return
	}
	if u, err := url.Parse(l.HubURL); err != nil || u.Scheme != "tls" || u.Port() == "" {
		add(p.key("hub_url").errorf("must be a URL like tls://control.example.com:7423 (control's nats.leaf_listen_addr), got %q", l.HubURL))
	}
	if !validDomain(l.HubDomain) {
		add(p.key("hub_domain").errorf("must be letters, digits, '-' or '_' (control's nats.domain), got %q", l.HubDomain))
	}
	if l.MaxBytes < MinSpoolMaxBytes {
		add(p.key("max_bytes").errorf("must be at least 256KiB, got %d bytes", int64(l.MaxBytes)))
	}
}

// validDomain reports whether d can be a JetStream domain (one subject
// token of plain characters).
func validDomain(d string) bool {
	if d == "" {
		return false
	}
	for _, c := range d {
		if !(c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

func (d *Database) validate(p path, add func(*FieldError)) {
	switch {
	case d.Name == "":
		add(p.key("name").errorf("required: the name clients use, e.g. roach"))
	case !validName(d.Name):
		add(p.key("name").errorf("%q: use 1-63 letters, digits, '-' or '_', starting with a letter or digit", d.Name))
	}
	if d.Protocol != "cockroachdb" && d.Protocol != "postgres" {
		add(p.key("protocol").errorf("must be cockroachdb or postgres, got %q", d.Protocol))
	}
	if d.URI == "" {
		add(p.key("uri").errorf("required: the database's HOST:PORT, e.g. roach.example.com:26257"))
	} else {
		add(checkHostPort(p.key("uri"), d.URI, false))
	}
	for k := range d.Labels {
		if k == "" {
			add(p.key("labels").errorf("a label key is empty"))
		}
	}
	if d.TLS.Mode != TLSVerifyFull && d.TLS.Mode != TLSVerifyCA {
		add(p.key("tls").key("mode").errorf("must be verify-full or verify-ca, got %q", d.TLS.Mode))
	}
}

func (r *ResourceMatcher) validate(p path, add func(*FieldError)) {
	if len(r.Labels) == 0 {
		add(p.key("labels").errorf(`required: labels to match, e.g. {env: [dev]} or {"*": "*"}`))
	}
	for k, v := range r.Labels {
		if len(v) == 0 {
			add(p.key("labels").key(k).errorf("list at least one value (\"*\" for any)"))
		}
	}
}

func checkHostPort(p path, v string, allowEmptyHost bool) *FieldError {
	host, port, err := net.SplitHostPort(v)
	if err != nil {
		return p.errorf("%q: use HOST:PORT", v)
	}
	if host == "" && !allowEmptyHost {
		return p.errorf("%q: the host is missing; use HOST:PORT", v)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 {
		return p.errorf("%q: the port must be a number from 0 to 65535", v)
	}
	if n == 0 && !allowEmptyHost {
		return p.errorf("%q: the port must not be 0", v)
	}
	return nil
}

// checkProxies checks a comma-separated list of control addresses, each
// HOST:PORT.
func checkProxies(p path, v string) *FieldError {
	for _, a := range strings.Split(v, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			return p.errorf("%q: an entry is empty; use HOST:PORT or HOST:PORT,HOST:PORT", v)
		}
		if fe := checkHostPort(p, a, false); fe != nil {
			return fe
		}
	}
	return nil
}

func checkPin(p path, v string) *FieldError {
	h, ok := strings.CutPrefix(v, "sha256:")
	if b, err := hex.DecodeString(h); !ok || err != nil || len(b) != 32 {
		return p.errorf("%q: must be sha256:<64 hex digits>, as printed by `tollctl status`", v)
	}
	return nil
}

func validName(s string) bool {
	if len(s) == 0 || len(s) > 63 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '-' && c != '_') {
			return false
		}
	}
	return true
}

// Token returns the join token: the contents of the file named by
// auth_token when it names one (trimmed), else auth_token itself. A value
// that looks like a path ('/' in it) but names no file is an error that
// says so, rather than a token value control would not know.
func (j Join) Token() (string, error) {
	v := j.AuthToken
	if v == "" {
		return "", fmt.Errorf("%w: tollgate.auth_token is empty: pass a join token from `tollctl tokens add --type=db`", ErrInvalid)
	}
	st, err := os.Stat(v)
	switch {
	case err == nil && st.Mode().IsRegular():
		raw, err := os.ReadFile(v)
		if err != nil {
			return "", fmt.Errorf("read tollgate.auth_token file: %w", err)
		}
		t := strings.TrimSpace(string(raw))
		if t == "" {
			return "", fmt.Errorf("%w: tollgate.auth_token: token file %s is empty: write the token from `tollctl tokens add --type=db --format=text` into it", ErrInvalid, v)
		}
		return t, nil
	case err == nil:
		return "", fmt.Errorf("%w: tollgate.auth_token: %s is not a file: name the file holding the join token", ErrInvalid, v)
	case !strings.ContainsRune(v, '/'):
		return v, nil
	case errors.Is(err, os.ErrNotExist):
		return "", fmt.Errorf("%w: tollgate.auth_token: token file %s not found: write the token from `tollctl tokens add --type=db --format=text` there "+
			"(under systemd use %s: the unit's PrivateTmp=true hides /tmp)", ErrInvalid, v, DefaultTokenPath)
	default:
		return "", fmt.Errorf("read tollgate.auth_token file: %w", err)
	}
}
