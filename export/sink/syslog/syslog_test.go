package syslog

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tollgate-db/tollgate/eventlog"
	"github.com/tollgate-db/tollgate/export"
)

func TestAppendMessage(t *testing.T) {
	t.Parallel()
	it := export.Item{Stream: "TOLLGATE_AUDIT", Event: eventlog.Event{ID: `a"b]`, Type: "query.result",
		Time: time.Date(2025, 1, 2, 3, 4, 5, 6000, time.UTC)}, Doc: []byte(`{"x":1}`)}
	got := string(AppendMessage(nil, 13, "host one", "tollgate", &it))
	require.Equal(t, `<110>1 2025-01-02T03:04:05.000006Z host_one tollgate - query.result [tollgate@32473 id="a\"b\]" stream="TOLLGATE_AUDIT"] {"x":1}`, got)
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	require.NoError(t, os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600))
}

// testCerts writes ca.pem, server.pem and server.key (for 127.0.0.1) into dir.
func testCerts(t *testing.T, dir string) {
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	caTmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test ca"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour), IsCA: true,
		KeyUsage: x509.KeyUsageCertSign, BasicConstraintsValid: true}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	require.NoError(t, err)
	ca, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
	require.NoError(t, err)
	keyDER, err := x509.MarshalECPrivateKey(key)
	require.NoError(t, err)
	writePEM(t, filepath.Join(dir, "ca.pem"), "CERTIFICATE", caDER)
	writePEM(t, filepath.Join(dir, "server.pem"), "CERTIFICATE", der)
	writePEM(t, filepath.Join(dir, "server.key"), "EC PRIVATE KEY", keyDER)
}

// startRsyslog runs rsyslogd in the foreground with imtcp on a free port,
// writing each received raw message as one line to the returned file.
func startRsyslog(t *testing.T, useTLS bool) (addr, out, dir string) {
	bin, err := exec.LookPath("rsyslogd")
	if err != nil {
		t.Fatalf("rsyslogd not found: apt-get install -y rsyslog rsyslog-gnutls")
	}
	dir = t.TempDir()
	port := freePort(t)
	out = filepath.Join(dir, "received.log")
	var conf strings.Builder
	fmt.Fprintf(&conf, "global(workDirectory=%q maxMessageSize=\"2m\"", dir)
	if useTLS {
		testCerts(t, dir)
		fmt.Fprintf(&conf, " defaultNetstreamDriver=\"gtls\" defaultNetstreamDriverCAFile=%q defaultNetstreamDriverCertFile=%q defaultNetstreamDriverKeyFile=%q",
			filepath.Join(dir, "ca.pem"), filepath.Join(dir, "server.pem"), filepath.Join(dir, "server.key"))
	}
	conf.WriteString(")\n")
	if useTLS {
		conf.WriteString("module(load=\"imtcp\" maxFrameSize=\"4000000\" streamDriver.name=\"gtls\" streamDriver.mode=\"1\" streamDriver.authMode=\"anon\")\n")
	} else {
		conf.WriteString("module(load=\"imtcp\" maxFrameSize=\"4000000\")\n")
	}
	fmt.Fprintf(&conf, "input(type=\"imtcp\" port=\"%d\" address=\"127.0.0.1\")\n", port)
	conf.WriteString("template(name=\"raw\" type=\"string\" string=\"%rawmsg%\\n\")\n")
	fmt.Fprintf(&conf, "action(type=\"omfile\" file=%q template=\"raw\")\n", out)
	confPath := filepath.Join(dir, "rsyslog.conf")
	require.NoError(t, os.WriteFile(confPath, []byte(conf.String()), 0o600))
	cmd := exec.Command(bin, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslogd.pid"))
	var logs strings.Builder
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("rsyslogd output:\n%s", logs.String())
		}
	})
	addr = fmt.Sprintf("127.0.0.1:%d", port)
	require.Eventually(t, func() bool {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			return false
		}
		_ = c.Close()
		return true
	}, 15*time.Second, 50*time.Millisecond, "rsyslogd did not listen")
	return addr, out, dir
}

func testItems(n int) []export.Item {
	base := time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)
	out := make([]export.Item, n)
	for i := range out {
		doc := fmt.Sprintf(`{"id":"ev%04d","type":"query","data":{"statement":"SELECT %d \"quoted\" ]"}}`, i, i)
		if i == n-1 {
			doc = fmt.Sprintf(`{"id":"ev%04d","statement":"%s"}`, i, strings.Repeat("x", 1<<20))
		}
		out[i] = export.Item{Stream: eventlog.AuditStream, Event: eventlog.Event{ID: fmt.Sprintf("ev%04d", i), Type: "query",
			Time: base.Add(time.Duration(i) * time.Millisecond)}, Doc: []byte(doc)}
	}
	return out
}

func TestRsyslog(t *testing.T) {
	t.Parallel()
	for _, useTLS := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", useTLS), func(t *testing.T) {
			t.Parallel()
			addr, out, dir := startRsyslog(t, useTLS)
			cfg := Config{Addr: addr, Hostname: "gw-1", TLS: useTLS}
			if useTLS {
				cfg.CAFile = filepath.Join(dir, "ca.pem")
			}
			s, err := New(cfg)
			require.NoError(t, err)
			defer s.Close()
			items := testItems(200)
			for i := 0; i < len(items); i += 50 {
				require.NoError(t, s.Write(context.Background(), items[i:i+50]))
			}
			var want []string
			for i := range items {
				want = append(want, string(AppendMessage(nil, 13, "gw-1", "tollgate", &items[i])))
			}
			var got []string
			require.Eventually(t, func() bool {
				got = readLines(t, out)
				return len(got) >= len(want)
			}, 20*time.Second, 100*time.Millisecond, "rsyslog received too few messages")
			require.Equal(t, len(want), len(got))
			for i := range want {
				require.Equal(t, want[i], got[i], "message %d", i)
			}
		})
	}
}

func TestDestinationDown(t *testing.T) {
	t.Parallel()
	s, err := New(Config{Addr: fmt.Sprintf("127.0.0.1:%d", freePort(t))})
	require.NoError(t, err)
	err = s.Write(context.Background(), testItems(2))
	require.ErrorContains(t, err, "syslog connect")
}

func readLines(t *testing.T, path string) []string {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	// Only complete lines count: rsyslog may be halfway through writing the
	// 1 MiB message when we look.
	data, err := io.ReadAll(f)
	if err != nil {
		return nil
	}
	var out []string
	for {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return out
		}
		out = append(out, string(data[:i]))
		data = data[i+1:]
	}
}
