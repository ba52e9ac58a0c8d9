package interop

// ACME cert modes against Pebble, Let's Encrypt's test CA, built from the Go
// module proxy and started here: a certificate is obtained through http-01
// on the plain HTTP port, served to Tailscale clients, cached in the cert
// dir, and renewed before it expires. gcp mode is the same with External
// Account Binding, which Pebble is configured to require for it.

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tailscale.com/tailcfg"
)

const (
	pebbleModule  = "github.com/letsencrypt/pebble/v2"
	pebbleVersion = "v2.10.1"
	// acmePort: derper serves TLS in the ACME modes only on port 443, so the
	// test's server listens there on loopback.
	acmePort = 443
	// pebbleValidity: short enough that a renewal (at a third of the
	// lifetime left) happens within the test.
	pebbleValidity = 45 * time.Second
	eabKeyID       = "jderper-test-kid"
	eabMACKey      = "zWNDZM6eQGHWpSRTPal5eIUYFTu7EajVIoguysqZ9wG44nMEtx3MUAsUDkMTQ12W"
)

type pebble struct {
	directory string // ACME directory URL
	apiCA     string // PEM file that verifies the directory's HTTPS
	mgmt      string // management API base URL
	stop      func() // ends the Pebble process
}

// pebbleBinary builds Pebble at the pinned version into the tool cache (once).
func pebbleBinary(t *testing.T) (bin, moduleDir string) {
	t.Helper()
	goToolMu.Lock()
	defer goToolMu.Unlock()
	dir := goToolCacheDir(t, "pebble-"+pebbleVersion)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	bin = filepath.Join(dir, "pebble")
	if _, err := os.Stat(bin); err != nil {
		// go install with a version resolves Pebble's own go.mod, not this suite's.
		cmd := exec.CommandContext(ctx, "go", "install", pebbleModule+"/cmd/pebble@"+pebbleVersion)
		cmd.Env = append(os.Environ(), "GOBIN="+dir)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building Pebble %s: %v\n%s", pebbleVersion, err, out)
		}
	}
	out, err := exec.CommandContext(ctx, "go", "mod", "download", "-json", pebbleModule+"@"+pebbleVersion).Output()
	if err != nil {
		t.Fatalf("locating Pebble's module: %v", err)
	}
	var mod struct{ Dir string }
	if err := json.Unmarshal(out, &mod); err != nil || mod.Dir == "" {
		t.Fatalf("go mod download: %v %s", err, out)
	}
	return bin, mod.Dir
}

// startPebble runs Pebble on free loopback ports, validating http-01 on
// httpPort, with EAB required when requireEAB is set.
func startPebble(t *testing.T, httpPort int, requireEAB bool) *pebble {
	t.Helper()
	bin, moduleDir := pebbleBinary(t)
	api, mgmt := freePort(t), freePort(t)
	config := map[string]any{"pebble": map[string]any{
		"listenAddress":                  net.JoinHostPort(hostIP, strconv.Itoa(api)),
		"managementListenAddress":        net.JoinHostPort(hostIP, strconv.Itoa(mgmt)),
		"certificate":                    filepath.Join(moduleDir, "test/certs/localhost/cert.pem"),
		"privateKey":                     filepath.Join(moduleDir, "test/certs/localhost/key.pem"),
		"httpPort":                       httpPort,
		"tlsPort":                        acmePort,
		"ocspResponderURL":               "",
		"externalAccountBindingRequired": requireEAB,
		"externalAccountMACKeys":         map[string]string{eabKeyID: eabMACKey},
		"retryAfter":                     map[string]int{"authz": 1, "order": 1},
		"keyAlgorithm":                   "ecdsa",
		"profiles": map[string]any{"default": map[string]any{
			"description": "short-lived, for renewal tests", "validityPeriod": int(pebbleValidity.Seconds())}},
	}}
	dir := t.TempDir()
	configFile := filepath.Join(dir, "pebble.json")
	b, _ := json.Marshal(config)
	if err := os.WriteFile(configFile, b, 0o644); err != nil {
		t.Fatal(err)
	}
	out := new(syncBuffer)
	cmd := exec.Command(bin, "-config", configFile)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = out, out
	// No artificial delays or random nonce rejections: the test measures jderper, not retries.
	cmd.Env = append(os.Environ(), "PEBBLE_VA_NOSLEEP=1", "PEBBLE_WFE_NONCEREJECT=0", "PEBBLE_AUTHZREUSE=0")
	cmd.SysProcAttr = newProcessGroupAttr()
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting Pebble: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	stop := func() { stopGroup(cmd, exited, shutdownTimeout) }
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("--- Pebble output ---\n%s", out.String())
		}
	})
	deadline := time.Now().Add(startupTimeout)
	for {
		c, err := net.DialTimeout("tcp", net.JoinHostPort(hostIP, strconv.Itoa(api)), 500*time.Millisecond)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Pebble did not listen within %v:\n%s", startupTimeout, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return &pebble{
		directory: "https://" + net.JoinHostPort(hostIP, strconv.Itoa(api)) + "/dir",
		apiCA:     filepath.Join(moduleDir, "test/certs/pebble.minica.pem"),
		mgmt:      "https://" + net.JoinHostPort(hostIP, strconv.Itoa(mgmt)),
		stop:      stop,
	}
}

// roots returns the pool of Pebble's current issuing roots (made fresh per run).
func (p *pebble) roots(t *testing.T) (*x509.CertPool, string) {
	t.Helper()
	caPEM, err := os.ReadFile(p.apiCA)
	if err != nil {
		t.Fatal(err)
	}
	apiPool := x509.NewCertPool()
	apiPool.AppendCertsFromPEM(caPEM)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: apiPool}}}
	resp, err := client.Get(p.mgmt + "/roots/0")
	if err != nil {
		t.Fatalf("Pebble's root: %v", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(body) {
		t.Fatalf("Pebble's root is not PEM: %s", body)
	}
	file := filepath.Join(t.TempDir(), "pebble-root.pem")
	if err := os.WriteFile(file, body, 0o644); err != nil {
		t.Fatal(err)
	}
	return pool, file
}

// servedLeaf does one TLS handshake verified for hostname (Go sends no SNI for
// an IP) and returns the leaf.
func servedLeaf(t *testing.T, roots *x509.CertPool, hostname string) (*x509.Certificate, error) {
	t.Helper()
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp",
		net.JoinHostPort(hostIP, strconv.Itoa(acmePort)), &tls.Config{ServerName: hostname, RootCAs: roots})
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.ConnectionState().PeerCertificates[0], nil
}

func TestACME(t *testing.T) {
	if sel := os.Getenv(envServer); strings.HasPrefix(sel, serverGoDerper) {
		t.Skipf("derper has no flag for another ACME directory (it always asks Let's Encrypt or Google): %s=%s", envServer, sel)
	}
	if c, err := net.DialTimeout("tcp", net.JoinHostPort(hostIP, strconv.Itoa(acmePort)), time.Second); err == nil {
		c.Close()
		t.Fatalf("%s:%d is taken; the ACME test needs it (derper's ACME modes serve TLS only on 443)", hostIP, acmePort)
	}
	t.Run("letsencrypt", func(t *testing.T) { testACMEMode(t, "letsencrypt", "localhost", false, false) })
	t.Run("gcp-with-eab", func(t *testing.T) { testACMEMode(t, "gcp", "localhost", false, false) })
	t.Run("letsencrypt-ip-certs", func(t *testing.T) { testACMEMode(t, "letsencrypt", hostIP, false, false) })
	t.Run("tls-alpn-01-without-http-port", func(t *testing.T) { testACMEMode(t, "letsencrypt", "localhost", true, false) })
	t.Run("ca-unreachable-at-renewal", func(t *testing.T) { testACMEMode(t, "letsencrypt", "localhost", false, true) })
}

// testACMEMode obtains, serves and renews a certificate for hostname. With
// tlsAlpn the server has no plain HTTP port (-http-port -1) and must answer
// tls-alpn-01 on 443; Pebble's http-01 port then has nobody listening. With
// caDown the CA stops after the first certificate, and the server must keep
// serving it, saying why it could not renew.
func testACMEMode(t *testing.T, mode, hostname string, tlsAlpn, caDown bool) {
	httpPort := freePort(t)
	p := startPebble(t, httpPort, mode == "gcp")
	httpPortArg := strconv.Itoa(httpPort)
	if tlsAlpn {
		httpPortArg = "-1"
	}
	certDir := filepath.Join(t.TempDir(), "certs")
	args := []string{"-a", net.JoinHostPort(hostIP, strconv.Itoa(acmePort)), "-certmode", mode,
		"-hostname", hostname, "-certdir", certDir, "-c", filepath.Join(t.TempDir(), "derper.key"),
		"-http-port", httpPortArg, "-stun=false",
		"-acme-directory", p.directory, "-acme-ca-file", p.apiCA}
	if mode == "gcp" {
		args = append(args, "-acme-email", "ops@example.com", "-acme-eab-kid", eabKeyID, "-acme-eab-key", eabMACKey)
	}
	if hostname == hostIP {
		args = append(args, "-acme-ip-certs")
	}
	s := startRawServer(t, args)
	roots, rootFile := p.roots(t)
	ctx := testContext(t, 3*time.Minute)

	// Obtained: TLS handshakes succeed once the certificate has arrived.
	var first *x509.Certificate
	deadline := time.Now().Add(time.Minute)
	for {
		leaf, err := servedLeaf(t, roots, hostname)
		if err == nil {
			first = leaf
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no Pebble-issued certificate served within a minute: %v\n--- server ---\n%s", err, s.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%s: served %v, valid until %v", mode, first.Subject, first.NotAfter)

	// Served to Tailscale clients: derphttp with Pebble's root as the only CA.
	s.HostName, s.Port = hostname, acmePort
	s.Node = &tailcfg.DERPNode{Name: nodeName, RegionID: regionID, HostName: hostname, IPv4: hostIP, STUNPort: -1,
		DERPPort: acmePort}
	s.Region = &tailcfg.DERPRegion{RegionID: regionID, RegionCode: regionCode, Nodes: []*tailcfg.DERPNode{s.Node}}
	a := newPeer(ctx, t, s, "A", peerOptions{rootCAs: roots})
	b := newPeer(ctx, t, s, "B", peerOptions{rootCAs: roots})
	pkt := randBytes(t, 800)
	a.send(t, b.pub, pkt)
	b.expectPacket(ctx, t, a, pkt)
	out, status := runCheck(ctx, t, "-ca-file", rootFile, "-stun-port", "-1", "https://"+hostname+"/derp")
	// "warn", not "ok": Pebble's certificates here live for seconds, far under the check's 14-day warning.
	expectCheck(t, out, status, 0, "warn  TLS    "+hostname+":443", "issued by CN=Pebble", "ok    relay",
		"PASS: 3 checks passed")

	if tlsAlpn && !strings.Contains(s.Log(), "answering an ACME tls-alpn-01 validation for localhost") {
		t.Errorf("the certificate came without a tls-alpn-01 validation:\n%s", s.Log())
	}

	// Cached: the cert dir holds it for the next start.
	if _, err := os.Stat(filepath.Join(certDir, hostname+".acme.crt")); err != nil {
		t.Errorf("the certificate is not cached in the cert dir: %v", err)
	}

	if caDown {
		p.stop()
		deadline := first.NotAfter
		for !strings.Contains(s.Log(), "still serving the current certificate") {
			if time.Now().After(deadline) {
				t.Fatalf("no renewal failure logged before the certificate expired\n--- server ---\n%s", s.Log())
			}
			time.Sleep(200 * time.Millisecond)
		}
		leaf, err := servedLeaf(t, roots, hostname)
		if err != nil || leaf.SerialNumber.Cmp(first.SerialNumber) != 0 {
			t.Fatalf("after a failed renewal the server should serve the same certificate: %v", err)
		}
		a.send(t, b.pub, pkt)
		b.expectPacket(ctx, t, a, pkt)
		return
	}

	// Renewed: a new certificate is served before the first one expires.
	renewBy := first.NotAfter
	for {
		leaf, err := servedLeaf(t, roots, hostname)
		if err == nil && leaf.SerialNumber.Cmp(first.SerialNumber) != 0 {
			t.Logf("%s: renewed, new certificate valid until %v", mode, leaf.NotAfter)
			break
		}
		if time.Now().After(renewBy) {
			t.Fatalf("no renewal before the first certificate expired at %v (last: %v)\n--- server ---\n%s",
				renewBy, err, s.Log())
		}
		time.Sleep(500 * time.Millisecond)
	}
	// Connections made before the renewal still relay.
	a.send(t, b.pub, pkt)
	b.expectPacket(ctx, t, a, pkt)
}
