package interop

// Test 6: Tailscale's monitoring prober, cmd/derpprobe, run once against a
// one-region DERP map holding the pinned node.
//
// What derpprobe (prober/derp.go) runs for such a node:
//   - derp/<code>/<node>/tls: a plain crypto/tls dial of HostName:DERPPort
//     verified against the *system roots* (the map's CertName pin is not used)
//     plus expiry (< 7 days alarm, skipped for certs whose SubjectKeyId equals
//     their AuthorityKeyId, e.g. both absent) and a CRL check when the leaf has
//     a CRL URL. A self-signed node therefore fails it unless its certificate is
//     a trusted root: we make it one for the derpprobe process only, with
//     SSL_CERT_FILE=<certdir>/<hostname>.crt (Go's crypto/x509 reads roots
//     from there on Unix), so this probe must pass too.
//   - derp/<code>/<node>/udp: a STUN binding request (net/stun) from an
//     ephemeral socket to IPv4:STUNPort; the same transaction ID must come
//     back within 2 s. udp6 is skipped: the node has no IPv6 address.
//   - derp/<code>/<node>/<node>/mesh: two derphttp clients (IsProber, pinned
//     cert via CertName), each must have TLS ServerName == HostName (never
//     true for an IP HostName, see TestDERPProbe) and get ServerInfo first;
//     an 8-byte packet must be relayed intact.
//   - derp/<code>/<node>/<node>/bw (enabled here with -bw-interval): 1 MB split
//     into 64 KiB packets, up to 30 in flight, must arrive complete and in order.
//   - derpmap-probe: fetching the map itself.
// With -once derpprobe prints "good: <probe>: <latency>" / "bad: <probe>: <error>"
// lines and exits 1 if any probe is bad.

import (
	"bufio"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"
)

// TestDERPProbe runs derpprobe twice:
//
//   - ip-hostname: the standard start (-hostname 127.0.0.1, the server's own
//     self-signed IP certificate). derpprobe's mesh probe can never pass for a
//     node whose HostName is an IP literal: Go sends no SNI for an IP, so
//     tls.ConnectionState.ServerName is "" and prober.newConn fails with
//     `TLS server name "" != derp hostname "127.0.0.1"` before it reads a
//     single DERP frame (the same happens against Tailscale's derper). That
//     exact error is tolerated for the mesh probe; everything else must pass.
//   - dns-hostname: -hostname localhost with a certificate the test provides
//     (manual cert mode's normal use); every probe must pass, including mesh,
//     which also checks that ServerInfo is the first frame.
func TestDERPProbe(t *testing.T) {
	bin := goToolBinary(t, "tailscale.com/cmd/derpprobe", "derpprobe")
	prefix := "derp/" + regionCode + "/" + nodeName + "/"
	mesh := prefix + nodeName + "/mesh"
	wantGood := []string{"derpmap-probe", prefix + "tls", prefix + "udp", prefix + nodeName + "/bw", mesh}

	t.Run("ip-hostname", func(t *testing.T) {
		s := startServer(t, serverOptions{stun: true})
		good, bad := runDERPProbe(t, bin, s)
		const meshIPErr = `TLS server name "" != derp hostname "127.0.0.1"`
		if got, ok := bad[mesh]; ok && got == meshIPErr {
			t.Logf("mesh probe failed as expected for an IP HostName: %s", got)
			delete(bad, mesh)
			good[mesh] = "(expected failure: IP HostName)"
		}
		checkProbes(t, good, bad, wantGood)
	})

	t.Run("dns-hostname", func(t *testing.T) {
		s := startServer(t, serverOptions{dnsName: "localhost", stun: true})
		good, bad := runDERPProbe(t, bin, s)
		checkProbes(t, good, bad, wantGood)
	})
}

// runDERPProbe runs `derpprobe -once` against a one-region map holding s's
// node and returns its good and bad probes (name -> latency or error).
func runDERPProbe(t *testing.T, bin string, s *server) (good, bad map[string]string) {
	ctx := testContext(t, 2*time.Minute)
	mapPath := filepath.Join(t.TempDir(), "derpmap.json")
	mj, err := json.MarshalIndent(s.DERPMap, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(mapPath, mj, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.CommandContext(ctx, bin,
		"-derp-map", "file://"+mapPath,
		"-once",
		"-spread=false",
		"-listen", "127.0.0.1:0", // ignored with -once
		"-bw-interval", "15s",
		"-bw-probe-size-bytes", "1000000",
		"-stun-interval", "15s",
	)
	// Trust the server's own certificate as a root for the TLS probe only.
	cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+s.CertFile())
	cmd.WaitDelay = 5 * time.Second
	out, err := cmd.CombinedOutput()
	t.Logf("derpprobe %s output:\n%s", strings.Join(cmd.Args[1:], " "), out)
	if ctx.Err() != nil {
		t.Fatalf("derpprobe did not finish within its timeout: %v", ctx.Err())
	}
	var exitErr *exec.ExitError
	if err != nil && !errors.As(err, &exitErr) {
		t.Fatalf("running derpprobe: %v", err)
	}
	good, bad = map[string]string{}, map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		line := sc.Text()
		for prefix, m := range map[string]map[string]string{"good: ": good, "bad: ": bad} {
			if _, rest, ok := strings.Cut(line, prefix); ok {
				name, detail, _ := strings.Cut(rest, ": ")
				m[name] = detail
			}
		}
	}
	if (err == nil) != (len(bad) == 0) {
		t.Errorf("derpprobe exit status %v does not match %d bad probes", err, len(bad))
	}
	return good, bad
}

func checkProbes(t *testing.T, good, bad map[string]string, want []string) {
	t.Helper()
	for name, detail := range bad {
		t.Errorf("derpprobe probe %s failed: %s", name, detail)
	}
	for _, w := range want {
		if _, ok := good[w]; !ok {
			t.Errorf("probe %s did not report good", w)
		}
	}
	var names []string
	for n := range good {
		names = append(names, n)
	}
	sort.Strings(names)
	t.Logf("good probes: %s", strings.Join(names, ", "))
}
