package client

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// ErrBadProxy means an address of control is not HOST or HOST:PORT.
var ErrBadProxy = errors.New("bad control address")

// SplitProxies splits a comma-separated list of control addresses and
// adds the default port to each entry that has none; empty entries are
// dropped. It does not check the entries (ParseProxies does).
func SplitProxies(list string) []string {
	var out []string
	for _, a := range strings.Split(list, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, normalizeOne(a))
		}
	}
	return out
}

// ParseProxies is SplitProxies that refuses an empty list, an empty entry
// and an entry that is not HOST or HOST:PORT with a port from 1 to 65535.
func ParseProxies(list string) ([]string, error) {
	var out []string
	for _, a := range strings.Split(list, ",") {
		a = strings.TrimSpace(a)
		if a == "" {
			return nil, fmt.Errorf("%w %q: an entry is empty; use HOST:PORT[,HOST:PORT…]", ErrBadProxy, list)
		}
		a = normalizeOne(a)
		host, port, err := net.SplitHostPort(a)
		n, perr := strconv.Atoi(port)
		if err != nil || host == "" || perr != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("%w %q: use HOST:PORT with a port from 1 to 65535", ErrBadProxy, a)
		}
		out = append(out, a)
	}
	return out, nil
}

// NormalizeProxy adds the default port to each address of a
// comma-separated list that has none (and drops spaces and empty entries).
func NormalizeProxy(proxy string) string { return strings.Join(SplitProxies(proxy), ",") }

func normalizeOne(a string) string {
	if _, _, err := net.SplitHostPort(a); err != nil {
		return net.JoinHostPort(a, DefaultPort)
	}
	return a
}

// UnreachableError is the failure of a call that reached no control: each
// address tried, in order, with why it failed.
type UnreachableError struct {
	Addrs []string
	Errs  []error
}

func (e *UnreachableError) Unwrap() []error { return e.Errs }

func (e *UnreachableError) Error() string {
	parts := make([]string, len(e.Addrs))
	for i, a := range e.Addrs {
		parts[i] = fmt.Sprintf("%s: %v", a, e.Errs[i])
	}
	return fmt.Sprintf("reach control (tried %s): %s", strings.Join(e.Addrs, ", "), strings.Join(parts, "; "))
}

// failOver says whether a call that failed with err (no HTTP answer) may
// go on to the next address: not when ctx ended, not when control's
// certificate failed verification (that is no network failure), and not
// when the request may have reached the control (sent) unless it is a GET
// or HEAD, which are safe to send again.
func failOver(ctx context.Context, method string, sent bool, err error) bool {
	if ctx.Err() != nil {
		return false
	}
	var te *TrustError
	if errors.As(err, &te) {
		return false
	}
	return !sent || method == http.MethodGet || method == http.MethodHead
}
