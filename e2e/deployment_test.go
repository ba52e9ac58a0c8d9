package e2e

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

const (
	// publicIP is the README's example address of the relay, put on the
	// namespace's loopback.
	publicIP = "203.0.113.10"
	// headscaleURL is where Headscale listens inside the namespace.
	headscaleURL = "http://127.0.0.1:8080"
	// streamBytes go each way through the tailnet TCP connection.
	streamBytes = 4 << 20
	// A WireGuard packet carries at most ~1,280 bytes of the stream here, so
	// the relay must have carried at least this many packets for it.
	minRelayedPackets = 2 * streamBytes / 1500

	startTimeout   = 2 * time.Minute
	commandTimeout = 90 * time.Second
)

// deployment is one of the README's two ways to run the relay.
type deployment struct {
	runStep, derpMapStep string
	// caHostname, when set, is the DNS name a test CA signs a certificate for;
	// otherwise the relay makes a self-signed one and the map pins it.
	caHostname string
}

func TestDomainDeployment(t *testing.T) {
	s := startDeployment(t, deployment{runStep: stepDomainRun, derpMapStep: stepDomainDerpMap,
		caHostname: "derp.example.com"})
	s.checkRelayed()
}

func TestIPOnlyDeployment(t *testing.T) {
	s := startDeployment(t, deployment{runStep: stepIPRun, derpMapStep: stepIPDerpMap})
	s.checkRelayed()
}

// scenario is one deployment's running world: the namespace and its files,
// the relay, Headscale and two nodes, and what the steps printed. Scenarios
// for later features start a deployment and add their own checks.
type scenario struct {
	t      *testing.T
	ns     *namespace
	steps  readmeSteps
	root   string
	env    []string
	relay  *process
	region derpRegion
	a, b   *node
}

// derpRegion is what the suite reads back from the map `jderper derpmap` printed.
type derpRegion struct {
	RegionID   int    `yaml:"regionid"`
	RegionCode string `yaml:"regioncode"`
	Nodes      []struct {
		HostName string `yaml:"hostname"`
		CertName string `yaml:"certname"`
		IPv4     string `yaml:"ipv4"`
	} `yaml:"nodes"`
}

// startDeployment performs a deployment's README steps in a new namespace:
// the relay, its DERP map, Headscale with that map only, and two nodes
// joined with a pre-auth key.
func startDeployment(t *testing.T, d deployment) *scenario {
	bins := tools(t)
	s := &scenario{t: t, ns: newNamespace(t, publicIP), steps: loadReadme(t), root: t.TempDir()}
	s.env = []string{"PATH=" + filepath.Dir(bins.headscale) + ":" + filepath.Dir(bins.tailscale) + ":" + os.Getenv("PATH")}
	for _, dir := range []string{"etc/jderper/certs", "var/lib/derper", "etc/headscale", "var/lib/headscale",
		"var/run/headscale"} {
		if err := os.MkdirAll(filepath.Join(s.root, dir), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	sub := s.substitution("", nil)
	if d.caHostname != "" {
		ca := writeTestCA(t, s.root, filepath.Join(s.root, "etc/jderper/certs"), d.caHostname)
		// Nodes trust the test CA as Go programs trust any root on Linux.
		s.env = append(s.env, "SSL_CERT_FILE="+ca)
	}

	s.relay = s.ns.start(t, "jderper", s.env, "exec "+sub.apply(t, s.steps.command(t, d.runStep, "./jderper run")))
	s.relay.waitForLog(t, regexp.MustCompile(`listening on .*:443`), startTimeout)
	s.relay.waitForLog(t, regexp.MustCompile(`STUN server listening on UDP .*:3478`), startTimeout)
	s.ns.run(t, commandTimeout, s.env, sub.apply(t, s.steps.command(t, d.derpMapStep, "./jderper derpmap")))
	s.region = s.readDerpMap()
	if d.caHostname != "" {
		if n := s.region.Nodes[0]; n.HostName != d.caHostname || n.IPv4 != publicIP || n.CertName != "" {
			t.Fatalf("domain map node: hostname %q ipv4 %q certname %q; want %s, %s, no pin", n.HostName, n.IPv4,
				n.CertName, d.caHostname, publicIP)
		}
	} else if n := s.region.Nodes[0]; n.HostName != publicIP || !strings.HasPrefix(n.CertName, "sha256-raw:") {
		t.Fatalf("IP-only map node: hostname %q certname %q; want %s pinned with sha256-raw", n.HostName, n.CertName,
			publicIP)
	}

	s.startHeadscale()
	key := s.preAuthKey()
	s.a, s.b = s.startNode("node-a", key), s.startNode("node-b", key)
	s.a.waitForPeer(s, s.b)
	s.b.waitForPeer(s, s.a)
	return s
}

// checkRelayed is the proof that the nodes talk through the relay:
// netcheck sees the region, a TCP stream crosses intact, ping and status say
// DERP, and the relay's own counters carried the stream.
func (s *scenario) checkRelayed() {
	for _, n := range []*node{s.a, s.b} {
		n.checkNetcheck(s)
	}
	s.a.streamTo(s, s.b)
	s.a.checkPingAndStatus(s, s.b)
	s.b.checkPingAndStatus(s, s.a)
	s.checkRelayMetrics()
	s.checkRelayCounters()
}

// metricsAddr is where the relay serves Prometheus metrics when the README's
// command leaves -metrics-addr at its default: loopback, in the relay's namespace.
const metricsAddr = "127.0.0.1:9340"

// checkRelayMetrics scrapes the running relay as Prometheus would: the
// stream's packets are in derp_packets_sent, the netchecks' STUN requests in
// stun_requests, and derper's own names (/debug/varz) carry the same count.
func (s *scenario) checkRelayMetrics() {
	t := s.t
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		DialContext: func(_ context.Context, network, address string) (net.Conn, error) {
			return onNamespaceThread(s.ns.name, func() (net.Conn, error) {
				return net.DialTimeout(network, address, 5*time.Second)
			})
		},
	}}
	scrape := func(path string) string {
		resp, err := client.Get("http://" + metricsAddr + path)
		if err != nil {
			t.Fatalf("scraping %s: %v", path, err)
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("scraping %s: status %d, %v", path, resp.StatusCode, err)
		}
		return string(body)
	}
	value := func(text, series string) float64 {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(text)
		if m == nil {
			t.Fatalf("no series %s in the scrape", series)
		}
		v, err := strconv.ParseFloat(m[1], 64)
		if err != nil {
			t.Fatalf("series %s: %v", series, err)
		}
		return v
	}
	metrics := scrape("/metrics")
	packets := value(metrics, "derp_packets_sent_total")
	bytesSent := value(metrics, "derp_bytes_sent_total")
	stun := value(metrics, `stun_requests_total{disposition="success"}`)
	t.Logf("metrics: derp_packets_sent_total %.0f, derp_bytes_sent_total %.0f, STUN successes %.0f", packets,
		bytesSent, stun)
	if packets < minRelayedPackets || bytesSent < 2*streamBytes {
		t.Errorf("metrics say the relay sent %.0f packets / %.0f bytes; the stream alone needs at least %d / %d",
			packets, bytesSent, minRelayedPackets, 2*streamBytes)
	}
	if stun < 2 {
		t.Errorf("metrics count %.0f STUN successes; each node's netcheck needs at least one", stun)
	}
	if varz := value(scrape("/debug/varz"), "derp_packets_sent"); varz < packets {
		t.Errorf("/debug/varz derp_packets_sent %.0f, below /metrics' %.0f scraped before it", varz, packets)
	}
}

func (s *scenario) substitution(socket string, placeholders map[string]string) substitution {
	return substitution{root: s.root, headscaleURL: headscaleURL, socket: socket, placeholders: placeholders}
}

func (s *scenario) readDerpMap() derpRegion {
	t := s.t
	raw, err := os.ReadFile(filepath.Join(s.root, "etc/headscale/derp.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Regions map[int]derpRegion `yaml:"regions"`
	}
	if err := yaml.Unmarshal(raw, &m); err != nil {
		t.Fatalf("derp.yaml: %v\n%s", err, raw)
	}
	if len(m.Regions) != 1 {
		t.Fatalf("derp.yaml has %d regions, want 1:\n%s", len(m.Regions), raw)
	}
	for _, r := range m.Regions {
		if len(r.Nodes) != 1 || r.RegionCode == "" {
			t.Fatalf("derp.yaml region: %+v", r)
		}
		return r
	}
	panic("unreachable")
}

// startHeadscale writes a Headscale configuration whose derp section is the
// README's and serves it.
func (s *scenario) startHeadscale() {
	t := s.t
	var derp map[string]any
	derpYAML := s.substitution("", nil).apply(t, s.steps.step(t, stepHeadscaleDERP))
	if err := yaml.Unmarshal([]byte(derpYAML), &derp); err != nil {
		t.Fatalf("README headscale/derp block: %v", err)
	}
	config := map[string]any{
		"server_url":          headscaleURL,
		"listen_addr":         strings.TrimPrefix(headscaleURL, "http://"),
		"metrics_listen_addr": "127.0.0.1:9090",
		"grpc_listen_addr":    "127.0.0.1:50443",
		"noise":               map[string]any{"private_key_path": s.path("var/lib/headscale/noise_private.key")},
		"prefixes":            map[string]any{"v4": "100.64.0.0/10", "v6": "fd7a:115c:a1e0::/48"},
		"database": map[string]any{"type": "sqlite",
			"sqlite": map[string]any{"path": s.path("var/lib/headscale/db.sqlite")}},
		"unix_socket":            s.path("var/run/headscale/headscale.sock"),
		"unix_socket_permission": "0770",
		"dns": map[string]any{"magic_dns": false, "override_local_dns": false,
			"base_domain": "tailnet.example.com"},
		"logtail":               map[string]any{"enabled": false},
		"disable_check_updates": true,
		"derp":                  derp["derp"],
	}
	out, err := yaml.Marshal(config)
	if err != nil {
		t.Fatal(err)
	}
	configPath := s.path("etc/headscale/config.yaml")
	if err := os.WriteFile(configPath, out, 0o600); err != nil {
		t.Fatal(err)
	}
	hs := s.ns.start(t, "headscale", s.env, "exec headscale -c "+configPath+" serve")
	hs.waitForLog(t, regexp.MustCompile(`listening and serving HTTP on`), startTimeout)
}

func (s *scenario) path(rel string) string { return filepath.Join(s.root, rel) }

// preAuthKey runs the README's key commands and returns the key printed last.
func (s *scenario) preAuthKey() string {
	t := s.t
	var out string
	for _, c := range s.steps.commands(t, stepNodesKey) {
		out = s.ns.run(t, commandTimeout, s.env, s.substitution("", nil).apply(t, c))
	}
	lines := strings.Fields(out)
	if len(lines) == 0 {
		t.Fatalf("no pre-auth key printed")
	}
	return lines[len(lines)-1]
}

// node is one tailscaled in userspace networking mode.
type node struct {
	name, socket, ip string
	env              []string
	daemon           *process
}

func (s *scenario) startNode(name, key string) *node {
	t := s.t
	dir := s.path(name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	n := &node{name: name, socket: filepath.Join(dir, "tailscaled.sock")}
	// TS_DEBUG_ALWAYS_USE_DERP is Tailscale's switch that disables direct UDP
	// paths in magicsock: both nodes share the namespace's loopback, where a
	// direct path would otherwise win at once.
	// TS_LOGS_DIR keeps tailscaled's log configuration in the node's
	// directory instead of the machine's /var/lib/tailscale.
	n.env = append(append([]string{}, s.env...), "TS_DEBUG_ALWAYS_USE_DERP=true", "TS_LOGS_DIR="+dir)
	n.daemon = s.ns.start(t, name, n.env, fmt.Sprintf("exec tailscaled --tun=userspace-networking --statedir=%s "+
		"--socket=%s --port=0 --no-logs-no-support", dir, n.socket))
	if err := n.daemon.await(startTimeout, func() bool { _, err := os.Stat(n.socket); return err == nil }); err != nil {
		t.Fatalf("no socket %s: %v", n.socket, err)
	}
	up := s.substitution(n.socket, map[string]string{"<key>": key}).apply(t, s.steps.command(t, stepNodesUp, "tailscale up"))
	s.ns.run(t, commandTimeout, n.env, up+" --hostname "+name)
	n.ip = strings.TrimSpace(s.ns.run(t, commandTimeout, n.env, "tailscale --socket="+n.socket+" ip -4"))
	if net.ParseIP(n.ip) == nil {
		t.Fatalf("%s: tailscale ip -4 printed %q", name, n.ip)
	}
	return n
}

// waitForPeer waits until n's network map has peer online: the nodes joined
// one after the other, and the first learns of the second asynchronously.
func (n *node) waitForPeer(s *scenario, peer *node) {
	var last string
	if err := n.daemon.await(startTimeout, func() bool {
		out, err := s.ns.try(commandTimeout, n.env, "tailscale --socket="+n.socket+" status --json")
		last = out
		var status struct {
			Peer map[string]struct {
				TailscaleIPs []string
				Online       bool
			}
		}
		if err != nil || json.Unmarshal([]byte(out), &status) != nil {
			return false
		}
		for _, p := range status.Peer {
			if p.Online && slices.Contains(p.TailscaleIPs, peer.ip) {
				return true
			}
		}
		return false
	}); err != nil {
		s.t.Fatalf("%s has not seen %s (%s) online: %v; last status:\n%s", n.name, peer.name, peer.ip, err, last)
	}
}

// checkNetcheck: the region is listed under "DERP latency" with a time, and
// STUN worked (UDP: true).
func (n *node) checkNetcheck(s *scenario) {
	t := s.t
	cmd := s.substitution(n.socket, nil).apply(t, s.steps.command(t, stepNodesVerify, "tailscale netcheck"))
	out := s.ns.run(t, commandTimeout, n.env, cmd)
	latency := regexp.MustCompile(`(?m)^\s*-\s*` + regexp.QuoteMeta(s.region.RegionCode) + `:\s+(\d[\d.]*[µm]?s)\s`)
	if !latency.MatchString(out) || !strings.Contains(out, "UDP: true") {
		t.Fatalf("%s: netcheck does not show UDP and region %q with a latency:\n%s", n.name, s.region.RegionCode, out)
	}
	t.Logf("%s netcheck: %s latency %s", n.name, s.region.RegionCode, latency.FindStringSubmatch(out)[1])
}

// checkPingAndStatus runs the README's ping and status lines from n to peer.
func (n *node) checkPingAndStatus(s *scenario, peer *node) {
	t := s.t
	sub := s.substitution(n.socket, map[string]string{"<other node's IP>": peer.ip})
	ping := s.ns.run(t, commandTimeout, n.env, sub.apply(t, s.steps.command(t, stepNodesVerify, "tailscale ping")))
	viaDERP := "via DERP(" + s.region.RegionCode + ")"
	if strings.Count(ping, viaDERP) != 3 || strings.Contains(ping, "via "+publicIP) {
		t.Fatalf("%s ping %s: want 3 pongs %s:\n%s", n.name, peer.name, viaDERP, ping)
	}
	status := s.ns.run(t, commandTimeout, n.env, sub.apply(t, s.steps.command(t, stepNodesVerify, "tailscale status")))
	want := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(peer.ip) + `\s.*active; relay "` +
		regexp.QuoteMeta(s.region.RegionCode) + `"`)
	if !want.MatchString(status) {
		t.Fatalf("%s status: no line for %s with `active; relay %q`:\n%s", n.name, peer.ip, s.region.RegionCode, status)
	}
}

// streamTo sends streamBytes from n to a TCP server on peer's tailnet address
// through `tailscale nc`, and streamBytes back; both sides check the SHA-256.
// In userspace networking mode tailscaled hands connections to its own
// address on to 127.0.0.1, so the server listens there, in the namespace.
func (n *node) streamTo(s *scenario, peer *node) {
	t := s.t
	ln := s.ns.listen(t, "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	reply := randomBytes(t, streamBytes)
	served := make(chan error, 1)
	go func() { served <- serveStream(ln, reply) }()

	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	nc := s.ns.command(ctx, n.env, fmt.Sprintf("exec tailscale --socket=%s nc %s %d", n.socket, peer.ip, port))
	var stderr bytes.Buffer
	nc.Stderr = &stderr
	stdin, err := nc.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := nc.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := nc.Start(); err != nil {
		t.Fatal(err)
	}
	// stdin stays open until the reply is read: tailscale nc exits when
	// either direction ends.
	defer func() { stdin.Close(); cancel(); nc.Wait() }()
	sent := randomBytes(t, streamBytes)
	go stdin.Write(sent)
	r := bufio.NewReader(stdout)
	digest, err := r.ReadString('\n')
	if err != nil {
		t.Fatalf("%s -> %s: reading the digest: %v (server: %v)\nnc stderr: %s", n.name, peer.name, err,
			nonBlocking(served), stderr.String())
	}
	if want := hexDigest(sent) + "\n"; digest != want {
		t.Fatalf("%s -> %s: the server got data with SHA-256 %q, sent %q", n.name, peer.name, digest, want)
	}
	got := make([]byte, streamBytes)
	if _, err := io.ReadFull(r, got); err != nil {
		t.Fatalf("%s <- %s: reading the reply: %v\nnc stderr: %s", n.name, peer.name, err, stderr.String())
	}
	if !bytes.Equal(got, reply) {
		t.Fatalf("%s <- %s: the reply differs from what the server sent", n.name, peer.name)
	}
	if err := <-served; err != nil {
		t.Fatal(err)
	}
	elapsed := time.Since(start)
	t.Logf("%s <-> %s: %d MiB each way intact through the relay in %s (%.1f MiB/s)", n.name, peer.name,
		streamBytes>>20, elapsed.Round(time.Millisecond), float64(2*streamBytes)/(1<<20)/elapsed.Seconds())
}

// serveStream accepts one connection, reads streamBytes, answers their
// SHA-256 in hex and a line break, then reply.
func serveStream(ln net.Listener, reply []byte) error {
	c, err := ln.Accept()
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(commandTimeout))
	h := sha256.New()
	if _, err := io.CopyN(h, c, streamBytes); err != nil {
		return fmt.Errorf("stream server: read: %v", err)
	}
	if _, err := io.WriteString(c, hex.EncodeToString(h.Sum(nil))+"\n"); err != nil {
		return err
	}
	_, err = c.Write(reply)
	return err
}

func nonBlocking(ch chan error) any {
	select {
	case err := <-ch:
		return err
	default:
		return "still running"
	}
}

func randomBytes(t *testing.T, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func hexDigest(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// checkRelayCounters stops the relay and reads the counters it logs: the
// stream's packets went through it, and STUN answered the netchecks.
func (s *scenario) checkRelayCounters() {
	t := s.t
	if s.relay.stop(t) {
		return
	}
	relayed := s.relay.waitForLog(t, regexp.MustCompile(`relay stopped: .*packets_sent=(\d+) bytes_sent=(\d+)`), time.Second)
	stun := s.relay.waitForLog(t, regexp.MustCompile(`STUN server stopped: .*replies=(\d+)`), time.Second)
	packets, _ := strconv.Atoi(relayed[1])
	bytesSent, _ := strconv.Atoi(relayed[2])
	replies, _ := strconv.Atoi(stun[1])
	t.Logf("relay counters: %s; STUN replies %d", relayed[0], replies)
	if packets < minRelayedPackets || bytesSent < 2*streamBytes {
		t.Errorf("the relay sent %d packets / %d bytes; the stream alone needs at least %d / %d",
			packets, bytesSent, minRelayedPackets, 2*streamBytes)
	}
	if replies < 2 {
		t.Errorf("STUN replies %d; each node's netcheck needs at least one", replies)
	}
}
