package interop

// Test 4: the /derp upgrade with and without "fast start", and over TLS 1.2.
//
// Tailscale's client uses fast start only when the TLS version is 1.3 and
// the server presented a "meta certificate" (CN derpkey<hex>, serial =
// protocol version) after its real chain: it then sends
// "Derp-Fast-Start: 1" plus its ClientInfo frame in the same flush as the
// request and expects no HTTP response at all — the first bytes it gets are
// the ServerKey frame. Without the header the server must answer with an
// exact "101 Switching Protocols" head followed by the ServerKey frame.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"encoding/hex"
	"fmt"
	"io"
	"testing"
	"time"

	"tailscale.com/derp"
	"tailscale.com/types/key"
)

// serverKeyFrame is the exact 45-byte ServerKey frame for k.
func serverKeyFrame(k key.NodePublic) []byte {
	b := []byte{byte(derp.FrameServerKey), 0, 0, 0, 40}
	b = append(b, derp.Magic...)
	return k.AppendTo(b)
}

func upgradeRequest(s *server, fastStart bool) string {
	req := fmt.Sprintf("GET /derp HTTP/1.1\r\nHost: %s\r\nUser-Agent: Go-http-client/1.1\r\nConnection: Upgrade\r\nUpgrade: DERP\r\n", s.Addr())
	if fastStart {
		req += derp.FastStartHeader + ": 1\r\n"
	}
	return req + "\r\n"
}

// rawSession finishes a DERP handshake on an upgraded raw connection with
// derp.Client and checks ServerInfo-first and a Ping/Pong round trip.
func rawSession(ctx context.Context, t *testing.T, c *derp.Client) {
	t.Helper()
	type res struct {
		m   derp.ReceivedMessage
		err error
	}
	recv := func() (derp.ReceivedMessage, error) {
		ch := make(chan res, 1)
		go func() {
			m, err := c.Recv()
			if p, ok := m.(derp.PongMessage); ok { // alias-free copy
				m = p
			}
			ch <- res{m, err}
		}()
		select {
		case r := <-ch:
			return r.m, r.err
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	m, err := recv()
	if err != nil {
		t.Fatalf("waiting for ServerInfo: %v", err)
	}
	if _, ok := m.(derp.ServerInfoMessage); !ok {
		t.Fatalf("first message %s, want ServerInfoMessage", describe(m))
	}
	data := [8]byte{'j', 'd', 'e', 'r', 'p', 'e', 'r', '!'}
	if err := c.SendPing(data); err != nil {
		t.Fatalf("SendPing: %v", err)
	}
	for {
		m, err := recv()
		if err != nil {
			t.Fatalf("waiting for Pong: %v", err)
		}
		if _, ok := m.(derp.KeepAliveMessage); ok {
			continue
		}
		pong, ok := m.(derp.PongMessage)
		if !ok || pong != derp.PongMessage(data) {
			t.Fatalf("got %s, want PongMessage{%x}", describe(m), data[:])
		}
		return
	}
}

func TestUpgrade(t *testing.T) {
	ctx := testContext(t, 90*time.Second)
	s := startServer(t, serverOptions{})

	// The server's DERP key, as a regular TLS 1.3 client learns it.
	ref := newPeer(ctx, t, s, "ref", peerOptions{})
	serverKey := ref.c.ServerPublicKey()
	ref.c.Close()

	t.Run("derphttp-fast-start", func(t *testing.T) {
		p := newPeer(ctx, t, s, "fast", peerOptions{})
		cs, ok := p.c.TLSConnectionState()
		if !ok {
			t.Fatal("no TLS connection state")
		}
		if cs.Version != tls.VersionTLS13 {
			t.Fatalf("negotiated %s, want TLS 1.3 by default", tls.VersionName(cs.Version))
		}
		// These are exactly derphttp's conditions for sending
		// Derp-Fast-Start: 1 and skipping the 101 (parseMetaCert).
		mk, ver, ok := metaCertKey(cs.PeerCertificates)
		if !ok {
			t.Fatalf("server presented no meta certificate (CN %q+<64 hex>, serial <= 255) after its chain over TLS 1.3 "+
				"(%d certs); Tailscale clients then fall back to the slower 101 path", "derpkey", len(cs.PeerCertificates))
		}
		if ver != derp.ProtocolVersion {
			t.Errorf("meta certificate serial (protocol version) = %d, want %d", ver, derp.ProtocolVersion)
		}
		if mk != serverKey || p.c.ServerPublicKey() != serverKey {
			t.Fatalf("meta certificate key %v / client's server key %v, want %v", mk, p.c.ServerPublicKey(), serverKey)
		}
		// The session works: relay a packet each way.
		partner := newPeer(ctx, t, s, "partner", peerOptions{})
		pkt := randBytes(t, 1400)
		p.send(t, partner.pub, pkt)
		partner.expectPacket(ctx, t, p, pkt)
		partner.send(t, p.pub, pkt)
		p.expectPacket(ctx, t, partner, pkt)
	})

	t.Run("raw-fast-start", func(t *testing.T) {
		tc := s.dialTLS(ctx, t, 0)
		cs := tc.ConnectionState()
		mk, _, ok := metaCertKey(cs.PeerCertificates)
		if cs.Version != tls.VersionTLS13 || !ok {
			t.Fatalf("TLS %s, meta certificate present: %v; fast start needs both TLS 1.3 and the meta certificate",
				tls.VersionName(cs.Version), ok)
		}
		brw := bufio.NewReadWriter(bufio.NewReader(tc), bufio.NewWriter(tc))
		if _, err := brw.WriteString(upgradeRequest(s, true)); err != nil {
			t.Fatal(err)
		}
		// Like derphttp: the ClientInfo frame follows the request in the
		// same write, before anything was read from the server.
		c, err := derp.NewClient(key.NewNode(), tc, brw, safeLogf(t, "raw: "), derp.ServerPublicKey(mk))
		if err != nil {
			t.Fatalf("derp.NewClient: %v", err)
		}
		want := serverKeyFrame(serverKey)
		got, err := brw.Peek(len(want))
		if err != nil {
			t.Fatalf("reading the first %d bytes after a fast-start request: %v (got %q)", len(want), err, got)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("first bytes after a fast-start request:\n got %s (%q)\nwant %s (the ServerKey frame, no HTTP response)",
				hex.EncodeToString(got), got, hex.EncodeToString(want))
		}
		// derp.Client was given the key, so it skips the ServerKey frame
		// as an unknown frame; ServerInfo must follow.
		rawSession(ctx, t, c)
	})

	for _, tv := range []struct {
		name       string
		maxVersion uint16
	}{{"raw-101", 0}, {"raw-101-tls12", tls.VersionTLS12}} {
		t.Run(tv.name, func(t *testing.T) {
			tc := s.dialTLS(ctx, t, tv.maxVersion)
			if tv.maxVersion != 0 && tc.ConnectionState().Version != tv.maxVersion {
				t.Fatalf("negotiated %s, want %s", tls.VersionName(tc.ConnectionState().Version), tls.VersionName(tv.maxVersion))
			}
			brw := bufio.NewReadWriter(bufio.NewReader(tc), bufio.NewWriter(tc))
			if _, err := brw.WriteString(upgradeRequest(s, false)); err != nil {
				t.Fatal(err)
			}
			if err := brw.Flush(); err != nil {
				t.Fatal(err)
			}
			head, err := readHTTPHead(brw.Reader)
			if err != nil {
				t.Fatalf("reading the upgrade response: %v (got %q)", err, head)
			}
			wantHead := "HTTP/1.1 101 Switching Protocols\r\n" +
				"Upgrade: DERP\r\n" +
				"Connection: Upgrade\r\n" +
				"Derp-Version: 2\r\n" +
				"Derp-Public-Key: " + hex.EncodeToString(serverKey.AppendTo(nil)) + "\r\n" +
				"\r\n"
			if head != wantHead {
				t.Fatalf("upgrade response head:\n got %q\nwant %q", head, wantHead)
			}
			want := serverKeyFrame(serverKey)
			got, err := brw.Peek(len(want))
			if err != nil && err != io.EOF {
				t.Fatalf("reading ServerKey frame: %v", err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("bytes after the 101 head:\n got %s\nwant %s (ServerKey frame)", hex.EncodeToString(got), hex.EncodeToString(want))
			}
			// No server key given: derp.Client parses the ServerKey frame itself.
			c, err := derp.NewClient(key.NewNode(), tc, brw, safeLogf(t, "raw: "))
			if err != nil {
				t.Fatalf("derp.NewClient: %v", err)
			}
			if c.ServerPublicKey() != serverKey {
				t.Fatalf("ServerKey frame key %v, want %v", c.ServerPublicKey(), serverKey)
			}
			rawSession(ctx, t, c)
		})
	}

	t.Run("derphttp-tls12", func(t *testing.T) {
		// derphttp.Client.TLSConfig is the base config for tlsdial, so a
		// MaxVersion there forces TLS 1.2; the client then cannot see the
		// (unencrypted in 1.2) meta certificate's key and uses the 101 path.
		p := newPeer(ctx, t, s, "tls12", peerOptions{tlsMaxVersion: tls.VersionTLS12, preferred: true})
		cs, ok := p.c.TLSConnectionState()
		if !ok {
			t.Fatal("no TLS connection state")
		}
		if cs.Version != tls.VersionTLS12 {
			t.Fatalf("negotiated %s, want TLS 1.2", tls.VersionName(cs.Version))
		}
		if p.c.ServerPublicKey() != serverKey {
			t.Fatalf("server key over TLS 1.2 %v, want %v", p.c.ServerPublicKey(), serverKey)
		}
		partner := newPeer(ctx, t, s, "partner", peerOptions{})
		for _, n := range []int{0, 1, 1400, derp.MaxPacketSize} {
			pkt := randBytes(t, n)
			p.send(t, partner.pub, pkt)
			partner.expectPacket(ctx, t, p, pkt)
			partner.send(t, p.pub, pkt)
			p.expectPacket(ctx, t, partner, pkt)
		}
	})
}
