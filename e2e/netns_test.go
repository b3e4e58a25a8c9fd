package e2e

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// netLink is a network namespace standing in for another host, joined to
// this one by a veth pair: this side hostIP on hostIf, the other nsIP. The
// link can be taken down and up, as a cut cable or a failed WAN link.
type netLink struct {
	t            *testing.T
	ip           string // the ip binary
	ns           string
	hostIf, nsIf string
	hostIP, nsIP string
}

// newNetLink creates the namespace and the link; both go when the test
// ends. It needs root (CAP_NET_ADMIN) and iproute2.
func newNetLink(t *testing.T) *netLink {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("this test makes a network namespace (ip netns) and needs root (CAP_NET_ADMIN): run it as root (.ci/run does)")
	}
	ip, err := exec.LookPath("ip")
	if err != nil {
		t.Fatal("ip not found: apt-get install -y iproute2")
	}
	var r [4]byte
	_, err = rand.Read(r[:])
	require.NoError(t, err)
	n := binary.BigEndian.Uint32(r[:])
	// A /30 in 10.128.0.0/9 picked at random, so parallel runs differ.
	a, b, c := 128+byte(n>>24)%127, byte(n>>16), byte(n>>8)&0xfc
	l := &netLink{t: t, ip: ip, ns: fmt.Sprintf("tg%08x", n),
		hostIf: fmt.Sprintf("tgh%08x", n), nsIf: fmt.Sprintf("tgn%08x", n),
		hostIP: fmt.Sprintf("10.%d.%d.%d", a, b, c+1), nsIP: fmt.Sprintf("10.%d.%d.%d", a, b, c+2)}
	t.Cleanup(l.remove)
	l.run("netns", "add", l.ns)
	l.run("link", "add", l.hostIf, "type", "veth", "peer", "name", l.nsIf)
	l.run("link", "set", l.nsIf, "netns", l.ns)
	l.run("addr", "add", l.hostIP+"/30", "dev", l.hostIf)
	l.run("link", "set", l.hostIf, "up")
	l.run("-n", l.ns, "addr", "add", l.nsIP+"/30", "dev", l.nsIf)
	l.run("-n", l.ns, "link", "set", l.nsIf, "up")
	l.run("-n", l.ns, "link", "set", "lo", "up")
	return l
}

func (l *netLink) run(args ...string) {
	l.t.Helper()
	out, err := exec.Command(l.ip, args...).CombinedOutput()
	require.NoError(l.t, err, "ip %s: %s", strings.Join(args, " "), out)
}

// down cuts the link; up restores it.
func (l *netLink) down() { l.run("link", "set", l.hostIf, "down") }
func (l *netLink) up()   { l.run("link", "set", l.hostIf, "up") }

// exec is the command line that runs name with args in the namespace.
func (l *netLink) exec(name string, args ...string) (string, []string) {
	return l.ip, append([]string{"netns", "exec", l.ns, name}, args...)
}

func (l *netLink) remove() {
	_ = exec.Command(l.ip, "netns", "del", l.ns).Run()
	_ = exec.Command(l.ip, "link", "del", l.hostIf).Run()
}
