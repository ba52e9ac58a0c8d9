package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The README's deployment sections mark each block the suite runs with an
// HTML comment `<!-- e2e: <step> -->` right before the fenced block, so the
// documented commands and the tested ones cannot drift apart.
var readmeStepPattern = regexp.MustCompile("(?s)<!-- e2e: ([a-z/-]+) -->\\s*\\n```[a-z]*\\n(.*?)\\n```")

// readmeSteps are the marked blocks of the README, by step name.
type readmeSteps map[string]string

// Step names the suite runs; TestReadmeSteps checks they are all there.
const (
	stepDomainRun     = "domain/run"
	stepDomainDerpMap = "domain/derpmap"
	stepIPRun         = "ip/run"
	stepIPDerpMap     = "ip/derpmap"
	stepHeadscaleDERP = "headscale/derp"
	stepNodesKey      = "nodes/key"
	stepNodesUp       = "nodes/up"
	stepNodesVerify   = "nodes/verify"
	stepAdmissionRun  = "admission/headscale"
)

func loadReadme(t *testing.T) readmeSteps {
	t.Helper()
	path := filepath.Join(repoRoot(), "README.md")
	text, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	steps := readmeSteps{}
	for _, m := range readmeStepPattern.FindAllStringSubmatch(string(text), -1) {
		if _, dup := steps[m[1]]; dup {
			t.Fatalf("%s marks step %q twice", path, m[1])
		}
		steps[m[1]] = m[2]
	}
	return steps
}

func (s readmeSteps) step(t *testing.T, name string) string {
	t.Helper()
	block, ok := s[name]
	if !ok {
		t.Fatalf("README.md has no block marked <!-- e2e: %s -->", name)
	}
	return block
}

// commands splits a shell block into commands: continuation lines joined,
// blank lines dropped.
func (s readmeSteps) commands(t *testing.T, name string) []string {
	t.Helper()
	joined := strings.ReplaceAll(s.step(t, name), "\\\n", " ")
	var cmds []string
	for _, line := range strings.Split(joined, "\n") {
		if line = strings.Join(strings.Fields(line), " "); line != "" {
			cmds = append(cmds, line)
		}
	}
	return cmds
}

// command is the one command of a step, or of a step's commands the one that
// starts with prefix.
func (s readmeSteps) command(t *testing.T, name, prefix string) string {
	t.Helper()
	for _, c := range s.commands(t, name) {
		if strings.HasPrefix(c, prefix) {
			return c
		}
	}
	t.Fatalf("README step %s has no command starting with %q", name, prefix)
	return ""
}

// substitution is everything the suite changes in a README command, and
// nothing else: ports, hostnames and the example public address are used as
// written, inside the scenario's network namespace.
type substitution struct {
	// root holds the scenario's files: /etc/... and /var/... become root/etc/...
	root string
	// headscaleURL replaces the example Headscale URL.
	headscaleURL string
	// socket, when set, points `tailscale` at one node's tailscaled.
	socket string
	// placeholders are README placeholders such as <key> and their values.
	placeholders map[string]string
}

const exampleHeadscaleURL = "https://headscale.example.com"

var (
	systemPathPattern = regexp.MustCompile(`(^|[\s="'])/(etc|var)/`)
	placeholderLeft   = regexp.MustCompile(`<[a-z][^<>]*>`)
)

func (sub substitution) apply(t *testing.T, command string) string {
	t.Helper()
	out := systemPathPattern.ReplaceAllString(command, "${1}"+sub.root+"/${2}/")
	out = strings.ReplaceAll(out, exampleHeadscaleURL, sub.headscaleURL)
	for k, v := range sub.placeholders {
		out = strings.ReplaceAll(out, k, v)
	}
	if sub.socket != "" && strings.HasPrefix(out, "tailscale ") {
		out = "tailscale --socket=" + sub.socket + strings.TrimPrefix(out, "tailscale")
	}
	if p := placeholderLeft.FindString(out); p != "" {
		t.Fatalf("README command %q: no value for placeholder %s", command, p)
	}
	return out
}

// TestReadmeSteps checks that every step the scenarios run is marked in the
// README, and that the substitutions touch only what they should.
func TestReadmeSteps(t *testing.T) {
	steps := loadReadme(t)
	for _, name := range []string{stepDomainRun, stepDomainDerpMap, stepIPRun, stepIPDerpMap, stepHeadscaleDERP,
		stepNodesKey, stepNodesUp, stepNodesVerify, stepAdmissionRun} {
		steps.step(t, name)
	}
	sub := substitution{root: "SCENARIO", headscaleURL: "http://127.0.0.1:8080", socket: "SCENARIO/a.sock",
		placeholders: map[string]string{"<key>": "K"}}
	got := sub.apply(t, "tailscale up --login-server https://headscale.example.com --auth-key <key> -c /var/lib/x "+
		"--path=/etc/y https://derp.example.com/etc/z")
	want := "tailscale --socket=SCENARIO/a.sock up --login-server http://127.0.0.1:8080 --auth-key K -c SCENARIO/var/lib/x " +
		"--path=SCENARIO/etc/y https://derp.example.com/etc/z"
	if got != want {
		t.Errorf("substitution:\n got %s\nwant %s", got, want)
	}
}
