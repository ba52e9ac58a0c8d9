package e2e

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

const (
	// derperIP is the second node of the meshed region: Tailscale's Go derper.
	derperIP = "203.0.113.11"
	// unprivilegedUID runs the node that must not reach the first node: the
	// namespace's firewall refuses that user's connections to it.
	unprivilegedUID = 65534
)

// TestMeshedRegion: one region of two meshed relays, Tailscale's Go derper and
// jderper, both with CA certificates for their IP addresses and one mesh key.
// Node A reaches both and homes on the first in its map; node B's connections
// to that one are refused by the namespace's firewall, so it homes on the
// other. Traffic between them crosses
// the mesh: a stream goes both ways intact, `tailscale ping` answers via
// DERP, and jderper's counters show the packets it forwarded to and received
// from derper.
func TestMeshedRegion(t *testing.T) {
	bins := tools(t)
	ensureCommand(t, "nft", "nftables")
	s := &scenario{t: t, ns: newNamespace(t, publicIP, derperIP), steps: loadReadme(t), root: t.TempDir()}
	s.env = []string{"PATH=" + filepath.Dir(bins.headscale) + ":" + filepath.Dir(bins.tailscale) + ":" + os.Getenv("PATH")}
	for _, dir := range []string{"etc/jderper/certs", "etc/derper/certs", "var/lib/derper", "etc/headscale",
		"var/lib/headscale", "var/run/headscale"} {
		if err := os.MkdirAll(s.path(dir), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	ca := newTestCA(t, s.root)
	ca.issue(t, s.path("etc/jderper/certs"), publicIP)
	ca.issue(t, s.path("etc/derper/certs"), derperIP)
	// The unprivileged node reads the CA too, and walks to its own directory.
	if err := os.Chmod(ca.path, 0o644); err != nil {
		t.Fatal(err)
	}
	for dir := s.root; dir != "/" && dir != os.TempDir(); dir = filepath.Dir(dir) {
		if err := os.Chmod(dir, 0o711); err != nil {
			t.Fatal(err)
		}
	}
	s.env = append(s.env, "SSL_CERT_FILE="+ca.path)
	meshKey := s.path("etc/jderper/mesh.key")
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(meshKey, []byte(hex.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Every node gets the whole list, itself included, as derper allows.
	meshWith := derperIP + "," + publicIP

	jderper := s.ns.start(t, "jderper", s.env, fmt.Sprintf("exec ./jderper run -a %s:443 -http-port -1 "+
		"-certmode manual -hostname %s -certdir %s -c %s -mesh-psk-file %s -mesh-with %s", publicIP, publicIP,
		s.path("etc/jderper/certs"), s.path("var/lib/derper/jderper.key"), meshKey, meshWith))
	derper := s.ns.start(t, "derper", s.env, fmt.Sprintf("exec %s -a %s:443 -http-port -1 -certmode manual "+
		"-hostname %s -certdir %s -c %s -mesh-psk-file %s -mesh-with %s", bins.derper, derperIP, derperIP,
		s.path("etc/derper/certs"), s.path("var/lib/derper/derper.key"), meshKey, meshWith))
	s.relay = jderper
	jderper.waitForLog(t, regexp.MustCompile(`listening on .*:443`), startTimeout)
	jderper.waitForLog(t, regexp.MustCompile(`mesh\(`+regexp.QuoteMeta(derperIP)+`\): connected to`), startTimeout)
	derper.waitForLog(t, regexp.MustCompile(`mesh\("`+regexp.QuoteMeta(publicIP)+`"\): .*connected`), startTimeout)

	s.region = writeRegionMap(t, s.path("etc/headscale/derp.yaml"), derperIP, publicIP)
	s.startHeadscale()
	authKey := s.preAuthKey()

	// Clients take a region's nodes in the order of their map, and Headscale shuffles that order (seeded by its
	// dns.base_domain): node A homes on whichever came first. Node B may not reach that one's DERP port (a TCP
	// reset, so it moves on at once) and homes on the other.
	s.a = s.startNode("node-a", authKey)
	first := s.firstRegionNode(s.a)
	s.ns.run(t, commandTimeout, s.env, fmt.Sprintf("nft add table inet e2e && "+
		"nft add chain inet e2e out '{ type filter hook output priority 0; policy accept; }' && "+
		"nft add rule inet e2e out meta skuid %d ip daddr %s tcp dport 443 reject with tcp reset",
		unprivilegedUID, first))
	t.Logf("the map lists %s first: node A homes there, node B on the other relay", first)
	s.b = s.startNodeAs("node-b", authKey, unprivilegedUID, bins.tailscaled)
	s.a.waitForPeer(s, s.b)
	s.b.waitForPeer(s, s.a)

	s.a.streamTo(s, s.b)
	s.a.checkPingAndStatus(s, s.b)
	s.b.checkPingAndStatus(s, s.a)

	if jderper.stop(t) {
		return
	}
	counters := jderper.waitForLog(t, regexp.MustCompile(`relay stopped: .*packets_forwarded_out=(\d+) `+
		`packets_forwarded_in=(\d+)`), commandTimeout)
	out, _ := strconv.Atoi(counters[1])
	in, _ := strconv.Atoi(counters[2])
	t.Logf("jderper forwarded %d packets to derper and received %d from it", out, in)
	// Each direction of the stream alone is at least streamBytes / 1,500 WireGuard packets.
	if out < minRelayedPackets/2 || in < minRelayedPackets/2 {
		t.Fatalf("jderper forwarded %d and received %d packets through the mesh; the stream needs %d each way",
			out, in, minRelayedPackets/2)
	}
}

// firstRegionNode is the host name of the first node of region 900 in the
// DERP map n got from Headscale.
func (s *scenario) firstRegionNode(n *node) string {
	t := s.t
	out := s.ns.run(t, commandTimeout, n.env, "tailscale --socket="+n.socket+" debug derp-map")
	var m struct {
		Regions map[string]struct {
			Nodes []struct{ HostName string }
		}
	}
	if err := json.Unmarshal([]byte(out), &m); err != nil || len(m.Regions["900"].Nodes) != 2 {
		t.Fatalf("%s: debug derp-map: %v\n%s", n.name, err, out)
	}
	return m.Regions["900"].Nodes[0].HostName
}

// writeRegionMap writes Headscale's derp.paths file: one region, the nodes in
// the order given (clients home on the first they reach), CA certificates,
// STUN on 3478.
func writeRegionMap(t *testing.T, path string, ips ...string) derpRegion {
	t.Helper()
	type node struct {
		Name     string `yaml:"name"`
		RegionID int    `yaml:"regionid"`
		HostName string `yaml:"hostname"`
		IPv4     string `yaml:"ipv4"`
		STUNPort int    `yaml:"stunport"`
		DERPPort int    `yaml:"derpport"`
	}
	var nodes []node
	for i, ip := range ips {
		nodes = append(nodes, node{Name: fmt.Sprintf("900%c", 'a'+i), RegionID: 900, HostName: ip, IPv4: ip,
			STUNPort: 3478, DERPPort: 443})
	}
	doc := map[string]any{"regions": map[int]any{900: map[string]any{"regionid": 900, "regioncode": "home",
		"regionname": "Home relays", "nodes": nodes}}}
	out, err := yaml.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
	var region derpRegion
	region.RegionID, region.RegionCode = 900, "home"
	return region
}

// startNodeAs starts a node whose tailscaled runs as uid (userspace
// networking needs no privilege), from a copy the user can execute (the tool
// cache may be in root's home); the CLI keeps running as root.
func (s *scenario) startNodeAs(name, key string, uid int, tailscaled string) *node {
	t := s.t
	bin := s.path("bin/tailscaled")
	if err := os.MkdirAll(filepath.Dir(bin), 0o755); err != nil {
		t.Fatal(err)
	}
	program, err := os.ReadFile(tailscaled)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, program, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := s.path(name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Chown(dir, uid, uid); err != nil {
		t.Fatal(err)
	}
	n := &node{name: name, socket: filepath.Join(dir, "tailscaled.sock")}
	n.env = append(append([]string{}, s.env...), "TS_DEBUG_ALWAYS_USE_DERP=true", "TS_LOGS_DIR="+dir,
		"HOME="+dir)
	n.daemon = s.ns.start(t, name, n.env, fmt.Sprintf("exec setpriv --reuid=%d --regid=%d --clear-groups "+
		"%s --tun=userspace-networking --statedir=%s --socket=%s --port=0 --no-logs-no-support",
		uid, uid, bin, dir, n.socket))
	if err := n.daemon.await(startTimeout, func() bool { _, err := os.Stat(n.socket); return err == nil }); err != nil {
		t.Fatalf("no socket %s: %v", n.socket, err)
	}
	up := s.substitution(n.socket, map[string]string{"<key>": key}).apply(t, s.steps.command(t, stepNodesUp, "tailscale up"))
	s.ns.run(t, commandTimeout, n.env, up+" --hostname "+name)
	n.ip = strings.TrimSpace(s.ns.run(t, commandTimeout, n.env, "tailscale --socket="+n.socket+" ip -4"))
	return n
}

// ensureCommand installs a Debian package when its command is missing (CI
// runs as root and may install what it needs).
func ensureCommand(t *testing.T, command, pkg string) {
	t.Helper()
	if _, err := exec.LookPath(command); err == nil {
		return
	}
	t.Logf("installing %s for %s", pkg, command)
	cmd := exec.Command("apt-get", "install", "-y", "-q", pkg)
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		update := exec.Command("apt-get", "update", "-q")
		if uout, uerr := update.CombinedOutput(); uerr != nil {
			t.Fatalf("apt-get update: %v\n%s", uerr, uout)
		}
		cmd = exec.Command("apt-get", "install", "-y", "-q", pkg)
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out2, err2 := cmd.CombinedOutput(); err2 != nil {
			t.Fatalf("apt-get install %s: %v\n%s\n%s", pkg, err2, out, out2)
		}
	}
	if _, err := exec.LookPath(command); err != nil {
		t.Fatalf("%s still missing after installing %s", command, pkg)
	}
}
