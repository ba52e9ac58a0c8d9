package interop

// Limits (spec §4.8): derper's -rate-config, reloaded on SIGHUP, and
// -accept-connection-limit/-accept-connection-burst, the same flags given to
// the server under test.

import (
	"context"
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"tailscale.com/derp"
)

// floodTime sends n 64 KiB packets from src to dst and returns how long dst
// took to receive them all.
func floodTime(ctx context.Context, t *testing.T, src, dst *peer, n int) time.Duration {
	t.Helper()
	pkt := randBytes(t, 64<<10)
	start := time.Now()
	go func() {
		for range n {
			if err := src.c.Send(dst.pub, pkt); err != nil {
				return
			}
		}
	}()
	for i := range n {
		m, err := dst.nextErr(ctx, 30*time.Second)
		if err != nil {
			t.Fatalf("packet %d of %d: %v", i+1, n, err)
		}
		if rp, ok := m.(derp.ReceivedPacket); !ok || rp.Source != src.pub {
			t.Fatalf("%s: got %s, want a packet from %s", dst.name, describe(m), src.name)
		}
	}
	return time.Since(start)
}

// TestRateConfig: with {"PerClientRateLimitBytesPerSec": 1000000} a client's
// 2 MB take at least 1.9 s to get through (TCP back-pressure, nothing
// dropped); after the file says 0 and the server gets SIGHUP, the server logs
// the new configuration and the limit is gone.
func TestRateConfig(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	config := filepath.Join(t.TempDir(), "rates.json")
	if err := os.WriteFile(config, []byte(`{"PerClientRateLimitBytesPerSec": 1000000}`), 0o644); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, serverOptions{args: []string{"-rate-config", config}})
	a := newPeer(ctx, t, s, "A", peerOptions{})
	b := newPeer(ctx, t, s, "B", peerOptions{})

	// 32 frames of 65,568 bytes at 1 MB/s, the first from a full bucket: at least 1.97 s.
	if took := floodTime(ctx, t, a, b, 32); took < 1900*time.Millisecond {
		t.Fatalf("2 MB at a 1 MB/s limit arrived in %v", took)
	} else {
		t.Logf("limited: 2 MB in %v", took)
	}

	if err := os.WriteFile(config, []byte(`{"PerClientRateLimitBytesPerSec": 0}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(s.Log(), "client-rate=0 bytes/sec") {
		if time.Now().After(deadline) {
			t.Fatalf("no \"rate config applied: client-rate=0 bytes/sec\" in the log 10 s after SIGHUP:\n%s", s.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	select {
	case <-s.exited:
		t.Fatalf("SIGHUP stopped the server: %v", s.waitErr)
	default:
	}
	c := newPeer(ctx, t, s, "C", peerOptions{})
	if took := floodTime(ctx, t, c, b, 32); took >= 1900*time.Millisecond {
		t.Fatalf("2 MB still took %v after the limit was lifted", took)
	} else {
		t.Logf("unlimited: 2 MB in %v", took)
	}
}

// TestAcceptConnectionLimit: with a burst of 2 and a negligible rate, the
// third TLS connection is closed before its handshake completes.
func TestAcceptConnectionLimit(t *testing.T) {
	ctx := testContext(t, time.Minute)
	s := startServer(t, serverOptions{args: []string{"-accept-connection-limit", "0.001",
		"-accept-connection-burst", "2"}})
	// startServer's port probe took one token already; one more connection must still be served.
	newPeer(ctx, t, s, "served", peerOptions{})
	d := tls.Dialer{Config: s.tlsConfig(0)}
	dctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	c, err := d.DialContext(dctx, "tcp", s.Addr())
	if err == nil {
		c.Close()
		t.Fatalf("a third connection got through the accept limit (burst 2)")
	}
	t.Logf("refused as expected: %v", err)
}
