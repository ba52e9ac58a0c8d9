package interop

// Certificates in manual mode: a Tailscale client accepts the pinned
// self-signed IP certificate and refuses any other pin, and new certificate
// files are served to new handshakes without a restart while established
// connections keep relaying.

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"tailscale.com/derp/derphttp"
	"tailscale.com/net/netmon"
	"tailscale.com/tailcfg"
	"tailscale.com/types/key"
)

const certReloadWait = 30 * time.Second // the server checks its files every 5 s

// withPin returns a copy of s whose DERP node pins another certificate hash.
func withPin(s *server, pin string) *server {
	c := *s
	node := *s.Node
	node.CertName = "sha256-raw:" + pin
	region := *s.Region
	region.Nodes = []*tailcfg.DERPNode{&node}
	c.CertPin, c.Node, c.Region = pin, &node, &region
	c.DERPMap = &tailcfg.DERPMap{Regions: map[int]*tailcfg.DERPRegion{region.RegionID: &region}}
	return &c
}

// connectError connects a fresh derphttp client to s's region and returns the error.
func connectError(ctx context.Context, t *testing.T, s *server) error {
	t.Helper()
	region := s.Region
	c := derphttp.NewRegionClient(key.NewNode(), safeLogf(t, "pinned: "), netmon.NewStatic(),
		func() *tailcfg.DERPRegion { return region })
	defer c.Close()
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	return c.Connect(cctx)
}

// servedPin does one TLS handshake and returns the hex SHA-256 of the leaf served.
func servedPin(ctx context.Context, t *testing.T, s *server) string {
	t.Helper()
	d := tls.Dialer{Config: &tls.Config{ServerName: s.HostName, InsecureSkipVerify: true}}
	c, err := d.DialContext(ctx, "tcp", s.Addr())
	if err != nil {
		t.Fatalf("TLS dial: %v", err)
	}
	defer c.Close()
	sum := sha256.Sum256(c.(*tls.Conn).ConnectionState().PeerCertificates[0].Raw)
	return hex.EncodeToString(sum[:])
}

func TestCertificatePin(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := testContext(t, time.Minute)
	if err := connectError(ctx, t, s); err != nil {
		t.Fatalf("a client pinning the served certificate cannot connect: %v", err)
	}
	err := connectError(ctx, t, withPin(s, strings.Repeat("ab", 32)))
	if err == nil {
		t.Fatalf("a client pinning another certificate connected")
	}
	t.Logf("wrong pin refused as expected: %v", err)
}

func TestCertificateReload(t *testing.T) {
	if sel := os.Getenv(envServer); strings.HasPrefix(sel, serverGoDerper) {
		t.Skipf("derper reads manual-mode certificates once at start; hot reload is jderper's (%s=%s)", envServer, sel)
	}
	s := startServer(t, serverOptions{dnsName: "localhost"})
	ctx := testContext(t, 2*time.Minute)
	a := newPeer(ctx, t, s, "A", peerOptions{})
	b := newPeer(ctx, t, s, "B", peerOptions{})
	oldPin := s.CertPin

	// A renewal as certbot or an operator does it: new files written beside, then moved in.
	staging := t.TempDir()
	if err := writeCert(staging, s.HostName); err != nil {
		t.Fatal(err)
	}
	for _, ext := range []string{".key", ".crt"} {
		if err := os.Rename(filepath.Join(staging, s.HostName+ext), filepath.Join(s.CertDir, s.HostName+ext)); err != nil {
			t.Fatal(err)
		}
	}
	loadCtx, cancel := context.WithTimeout(ctx, certReloadWait)
	defer cancel()
	if err := s.loadCert(time.Now().Add(certReloadWait)); err != nil {
		t.Fatal(err)
	}
	newPin := s.CertPin
	if newPin == oldPin {
		t.Fatal("the new certificate has the old one's hash")
	}
	for servedPin(loadCtx, t, s) != newPin {
		select {
		case <-loadCtx.Done():
			t.Fatalf("the server still serves the old certificate %v after the files changed", certReloadWait)
		case <-time.After(200 * time.Millisecond):
		}
	}

	// Established connections keep relaying on the old certificate.
	pkt := randBytes(t, 500)
	a.send(t, b.pub, pkt)
	b.expectPacket(ctx, t, a, pkt)

	// New connections get the new certificate: the new pin works, the old one is refused.
	renewed := withPin(s, newPin)
	c := newPeer(ctx, t, renewed, "C", peerOptions{})
	c.send(t, a.pub, pkt)
	a.expectPacket(ctx, t, c, pkt)
	if err := connectError(ctx, t, withPin(s, oldPin)); err == nil {
		t.Errorf("a client pinning the replaced certificate still connected")
	}
	if !strings.Contains(s.Log(), "reloaded the certificate for localhost") {
		t.Errorf("the server did not log the reload:\n%s", s.Log())
	}
}
