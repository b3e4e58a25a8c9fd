package helm

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/tollgate-db/tollgate/internal/config"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata/")

// guideAgent are the seed guide's `helm install … --set` values, with our
// names where the guide's command leaves a gap (proxyAddr, the database's
// uri, the CA pin).
var guideAgent = []string{
	"roles=db",
	"proxyAddr=tollgate.example.com:7080",
	"caPin=sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
	"authToken=0123456789abcdef0123456789abcdef",
	"databases[0].name=roach",
	"databases[0].uri=roach.example.com:26257",
	"databases[0].protocol=cockroachdb",
	"databases[0].static_labels.env=dev",
}

type chartCase struct {
	name  string // also the golden file's
	chart string
	set   []string
}

var renderCases = []chartCase{
	{"agent-guide", "tollgate-agent", guideAgent},
	{"agent-own-secret-async", "tollgate-agent", []string{
		"proxyAddr=ctl-a:7080\\,ctl-b:7080", "joinTokenSecret=roach-join", "auditMode=async",
		"databases[0].name=pg", "databases[0].uri=10.0.0.5:5432", "databases[0].protocol=postgres",
		"databases[0].tls.mode=verify-ca", "persistence.enabled=false", "extraConfig.idle_timeout=30m",
		"resources[0].labels.env[0]=dev",
	}},
	{"control-embedded", "tollgate-control", []string{"publicAddr=tollgate.example.com:7080", "sealKeySecret=tollgate-seal"}},
	{"control-leaf-listener", "tollgate-control", []string{"publicAddr=tollgate.example.com:7080", "nats.leafPort=7423"}},
	{"agent-leaf", "tollgate-agent", append(append([]string(nil), guideAgent...), "extraConfig.audit_leaf.hub_url=tls://tollgate.example.com:7423")},
	{"control-three-controls", "tollgate-control", []string{
		"replicas=3", "nats.url=tls://nats-0.nats:4222\\,tls://nats-1.nats:4222\\,tls://nats-2.nats:4222",
		"nats.replicas=3", "nats.tlsSecret=nats-ca", "sealKeySecret=tollgate-seal", "publicAddr=tollgate.example.com:7080",
	}},
	{"control-nats-cluster", "tollgate-control", []string{
		"nats.url=tls://nats-0.nats:4222\\,tls://nats-1.nats:4222\\,tls://nats-2.nats:4222",
		"nats.replicas=3", "nats.credsSecret=tollgate-nats", "nats.tlsSecret=nats-ca", "sealKeySecret=tollgate-seal",
	}},
}

func helmArgs(cmd string, c chartCase) []string {
	args := []string{cmd}
	if cmd == "template" {
		// The release names of the README's helm install commands.
		args = append(args, c.chart, c.chart, "--namespace", "tollgate")
	} else {
		args = append(args, "--strict", c.chart)
	}
	for _, s := range c.set {
		args = append(args, "--set", s)
	}
	return args
}

func runTool(t *testing.T, bin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = append(os.Environ(), "HELM_CACHE_HOME="+t.TempDir(), "HELM_CONFIG_HOME="+t.TempDir(), "HELM_DATA_HOME="+t.TempDir())
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}

func TestChartsLintWithTheGuidesValues(t *testing.T) {
	helm := tool(t, helmPkg)
	for _, c := range renderCases {
		t.Run(c.name, func(t *testing.T) {
			out, err := runTool(t, helm, helmArgs("lint", c)...)
			require.NoError(t, err, out)
			require.Contains(t, out, "1 chart(s) linted, 0 chart(s) failed")
		})
	}
}

func TestChartsRenderValidManifests(t *testing.T) {
	helm, kubeconform := tool(t, helmPkg), tool(t, kubeconformPkg)
	doc := loadOpenAPI(t)
	for _, c := range renderCases {
		t.Run(c.name, func(t *testing.T) {
			out, err := runTool(t, helm, helmArgs("template", c)...)
			require.NoError(t, err, out)
			golden(t, c.name, out)
			objs := parseManifests(t, out)
			require.NotEmpty(t, objs)
			valid := kubeconformValidate(t, kubeconform, doc, out, objs)
			require.Equal(t, len(objs), valid, "every rendered object is validated (none skipped)")
			checkConfig(t, objs)
		})
	}
}

func TestValidationRejectsAMisspeltField(t *testing.T) {
	helm, kubeconform := tool(t, helmPkg), tool(t, kubeconformPkg)
	doc := loadOpenAPI(t)
	out, err := runTool(t, helm, helmArgs("template", renderCases[0])...)
	require.NoError(t, err, out)
	bad := strings.Replace(out, "\n  serviceName:", "\n  serviceNme:", 1)
	require.NotEqual(t, out, bad)
	res, err := kubeconformRun(t, kubeconform, doc, bad, parseManifests(t, bad))
	require.Error(t, err, "kubeconform must refuse an unknown field:\n%s", res)
	require.Contains(t, res, "serviceNme")
}

func TestChartsRefuseBadValues(t *testing.T) {
	helm := tool(t, helmPkg)
	without := func(drop string) []string {
		var out []string
		for _, s := range guideAgent {
			if !strings.HasPrefix(s, drop) {
				out = append(out, s)
			}
		}
		return out
	}
	for _, tc := range []struct {
		name string
		c    chartCase
		want string
	}{
		{"another role", chartCase{chart: "tollgate-agent", set: append(without("roles="), "roles=app")}, "set roles=db"},
		{"no control address", chartCase{chart: "tollgate-agent", set: without("proxyAddr=")}, "proxyAddr is required"},
		{"no join token", chartCase{chart: "tollgate-agent", set: without("authToken=")}, "a join token is required"},
		{"no database", chartCase{chart: "tollgate-agent", set: without("databases[0]")}, "nothing to serve"},
		{"database without uri", chartCase{chart: "tollgate-agent", set: without("databases[0].uri=")}, "databases[0] needs name and uri"},
		{"bad audit mode", chartCase{chart: "tollgate-agent", set: append(guideAgent, "auditMode=sometimes")}, "strict or async"},
		{"two controls without a cluster", chartCase{chart: "tollgate-control", set: []string{"replicas=2", "sealKeySecret=s"}}, "set nats.url"},
		{"two controls without a seal key", chartCase{chart: "tollgate-control", set: []string{"replicas=2", "nats.url=nats://n:4222"}}, "set sealKeySecret"},
		{"no control", chartCase{chart: "tollgate-control", set: []string{"replicas=0"}}, "at least 1"},
		{"replicas without a cluster", chartCase{chart: "tollgate-control", set: []string{"nats.replicas=3"}}, "needs a NATS cluster"},
		{"creds without a cluster", chartCase{chart: "tollgate-control", set: []string{"nats.credsSecret=x"}}, "are for nats.url"},
		{"leaf listener on a cluster", chartCase{chart: "tollgate-control", set: []string{"nats.url=nats://n:4222", "nats.leafPort=7423"}}, "leaf agents are not supported yet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runTool(t, helm, helmArgs("template", tc.c)...)
			require.Error(t, err, out)
			require.Contains(t, out, tc.want)
		})
	}
}

// object is one rendered manifest, as YAML decodes it.
type object map[string]any

func (o object) str(path ...string) string {
	var cur any = map[string]any(o)
	for _, p := range path {
		m, _ := cur.(map[string]any)
		cur = m[p]
	}
	s, _ := cur.(string)
	return s
}

func parseManifests(t *testing.T, out string) []object {
	t.Helper()
	dec := yaml.NewDecoder(strings.NewReader(out))
	var objs []object
	for {
		var o map[string]any // not object: yaml.v3 would decode nested maps as object too
		if err := dec.Decode(&o); err != nil {
			if err.Error() == "EOF" {
				return objs
			}
			t.Fatalf("rendered YAML: %v", err)
		}
		if len(o) > 0 {
			objs = append(objs, object(o))
		}
	}
}

// kubeconformValidate validates out and returns the count of valid objects.
func kubeconformValidate(t *testing.T, bin string, doc *openAPI, out string, objs []object) int {
	t.Helper()
	res, err := kubeconformRun(t, bin, doc, out, objs)
	require.NoError(t, err, res)
	m := regexp.MustCompile(`Valid: (\d+)`).FindStringSubmatch(res)
	require.NotNil(t, m, res)
	var n int
	fmt.Sscan(m[1], &n)
	require.Contains(t, res, "Invalid: 0, Errors: 0, Skipped: 0", res)
	return n
}

func kubeconformRun(t *testing.T, bin string, doc *openAPI, out string, objs []object) (string, error) {
	t.Helper()
	dir := t.TempDir()
	for _, o := range objs {
		require.NoError(t, doc.writeSchema(dir, o.str("apiVersion"), o.str("kind")))
	}
	file := filepath.Join(t.TempDir(), "manifests.yaml")
	require.NoError(t, os.WriteFile(file, []byte(out), 0o600))
	return runTool(t, bin, "-strict", "-summary", "-output", "text",
		"-schema-location", dir+"/{{ .ResourceKind }}{{ .KindSuffix }}.json", file)
}

// checkConfig reads the rendered tollgate.yaml with Tollgate's own parser,
// with every /etc/tollgate file the pod mounts present, and checks that
// each file the config names is under one of the container's mounts.
func checkConfig(t *testing.T, objs []object) {
	t.Helper()
	var cfgText string
	var mounts []string
	for _, o := range objs {
		switch o.str("kind") {
		case "ConfigMap":
			data, _ := o["data"].(map[string]any)
			cfgText, _ = data["tollgate.yaml"].(string)
		case "StatefulSet":
			mounts = mountPaths(o)
		}
	}
	require.NotEmpty(t, cfgText, "a ConfigMap with tollgate.yaml")
	paths := regexp.MustCompile(`(/etc/tollgate/[^\s"]+|/var/lib/tollgate)`).FindAllString(cfgText, -1)
	root := t.TempDir()
	for _, p := range paths {
		mounted := false
		for _, m := range mounts {
			mounted = mounted || p == m || strings.HasPrefix(p, strings.TrimSuffix(m, "/")+"/")
		}
		require.True(t, mounted, "%s is in the config but not mounted (mounts %v)", p, mounts)
		if strings.HasPrefix(p, "/etc/tollgate/") {
			require.NoError(t, os.MkdirAll(filepath.Dir(filepath.Join(root, p)), 0o700))
			require.NoError(t, os.WriteFile(filepath.Join(root, p), []byte("x"), 0o600))
		}
	}
	local := strings.NewReplacer("/etc/tollgate/", root+"/etc/tollgate/", "/var/lib/tollgate", root+"/var/lib/tollgate").Replace(cfgText)
	_, err := config.Parse([]byte(local))
	require.NoError(t, err, "the rendered tollgate.yaml:\n%s", cfgText)
}

func mountPaths(o object) []string {
	spec, _ := o["spec"].(map[string]any)
	tmpl, _ := spec["template"].(map[string]any)
	pspec, _ := tmpl["spec"].(map[string]any)
	containers, _ := pspec["containers"].([]any)
	var out []string
	for _, c := range containers {
		cm, _ := c.(map[string]any)
		vms, _ := cm["volumeMounts"].([]any)
		for _, vm := range vms {
			m, _ := vm.(map[string]any)
			if p, ok := m["mountPath"].(string); ok {
				out = append(out, p)
			}
		}
	}
	sort.Strings(out)
	return out
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".yaml")
	if *update {
		require.NoError(t, os.MkdirAll("testdata", 0o755))
		require.NoError(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "run go test ./deploy/helm -update to write it")
	require.Equal(t, string(want), got, "rendered manifests differ from %s (go test ./deploy/helm -update rewrites it)", path)
}
