package interop

// Tests 1-3: packet relay, PeerGone and Ping/Pong with Tailscale's derphttp
// client over TLS, verifying the server's self-signed certificate with a
// sha256-raw pin exactly as a DERP map node is verified.

import (
	"bytes"
	"context"
	"testing"
	"time"

	"tailscale.com/derp"
	"tailscale.com/types/key"
)

// discoMagic is the 6-byte prefix of a disco packet ("TS💬").
const discoMagic = "TS\xf0\x9f\x92\xac"

// discoLike returns an n-byte packet starting with the disco magic.
func discoLike(t *testing.T, n int) []byte {
	b := randBytes(t, n)
	copy(b, discoMagic)
	return b
}

// TestRelay: two clients with fresh keys exchange packets of many sizes in
// both directions; payload and source key must match, order must be kept.
func TestRelay(t *testing.T) {
	ctx := testContext(t, 90*time.Second)
	s := startServer(t, serverOptions{})
	a := newPeer(ctx, t, s, "A", peerOptions{preferred: true, canAckPings: true})
	b := newPeer(ctx, t, s, "B", peerOptions{preferred: true, canAckPings: true})

	if ak, bk := a.c.ServerPublicKey(), b.c.ServerPublicKey(); ak.IsZero() || ak != bk {
		t.Fatalf("server key not stable across connections: A saw %v, B saw %v", ak, bk)
	}

	sizes := []int{0, 1, 2, 31, 32, 33, 100, 1280, 1400, 1500, 4096, 16384, 65535, derp.MaxPacketSize}
	for _, dir := range []struct {
		name     string
		from, to *peer
	}{{"A->B", a, b}, {"B->A", b, a}} {
		t.Run(dir.name, func(t *testing.T) {
			// One at a time: send, then receive.
			for _, n := range sizes {
				pkt := randBytes(t, n)
				dir.from.send(t, dir.to.pub, pkt)
				dir.to.expectPacket(ctx, t, dir.from, pkt)
			}
			// A burst below the server's per-client queue depth (32) must
			// arrive complete and in order.
			var burst [][]byte
			for i := range 30 {
				pkt := randBytes(t, sizes[i%len(sizes)])
				burst = append(burst, pkt)
				dir.from.send(t, dir.to.pub, pkt)
			}
			for _, pkt := range burst {
				dir.to.expectPacket(ctx, t, dir.from, pkt)
			}
		})
	}

	t.Run("disco-like", func(t *testing.T) {
		// Disco packets travel on the server's separate disco queue.
		pkt := discoLike(t, 120)
		a.send(t, b.pub, pkt)
		b.expectPacket(ctx, t, a, pkt)
	})
}

// TestPeerGone covers both PeerGone reasons.
func TestPeerGone(t *testing.T) {
	ctx := testContext(t, 90*time.Second)
	s := startServer(t, serverOptions{})

	// The server tells a connection that K left only if that connection has
	// received at least one packet from K (derpserver registers the watch
	// when it delivers a packet from K). So the brief's shape "A sends to B,
	// B closes, A hears PeerGone(B)" needs B to have sent to A as well; both
	// directions are checked.
	t.Run("Disconnected/receiver-closes", func(t *testing.T) {
		a := newPeer(ctx, t, s, "A", peerOptions{})
		b := newPeer(ctx, t, s, "B", peerOptions{})
		pkt := randBytes(t, 64)
		a.send(t, b.pub, pkt)
		b.expectPacket(ctx, t, a, pkt)
		reply := randBytes(t, 64)
		b.send(t, a.pub, reply)
		a.expectPacket(ctx, t, b, reply)

		if err := b.c.Close(); err != nil {
			t.Fatalf("closing B: %v", err)
		}
		expectPeerGone(ctx, t, a, b.pub, derp.PeerGoneReasonDisconnected)
	})

	t.Run("Disconnected/sender-closes", func(t *testing.T) {
		a := newPeer(ctx, t, s, "A", peerOptions{})
		b := newPeer(ctx, t, s, "B", peerOptions{})
		pkt := randBytes(t, 64)
		a.send(t, b.pub, pkt)
		b.expectPacket(ctx, t, a, pkt)

		if err := a.c.Close(); err != nil {
			t.Fatalf("closing A: %v", err)
		}
		expectPeerGone(ctx, t, b, a.pub, derp.PeerGoneReasonDisconnected)
	})

	t.Run("NotHere", func(t *testing.T) {
		a := newPeer(ctx, t, s, "A", peerOptions{})
		notDisco := key.NewNode().Public()
		unknown := key.NewNode().Public()
		// 61 bytes with the disco magic is not disco (a disco packet needs
		// magic + 32-byte disco key + 24-byte nonce = 62 bytes): the server
		// must drop it silently. A non-disco packet likewise.
		a.send(t, notDisco, discoLike(t, 61))
		a.send(t, notDisco, randBytes(t, 200))
		// The smallest disco-looking packet to an unknown key must be
		// answered with PeerGone(NotHere). Frames from A are handled in
		// order, so any PeerGone about notDisco would arrive first.
		a.send(t, unknown, discoLike(t, 62))
		expectPeerGone(ctx, t, a, unknown, derp.PeerGoneReasonNotHere)
	})
}

func expectPeerGone(ctx context.Context, t *testing.T, p *peer, who key.NodePublic, reason derp.PeerGoneReasonType) {
	t.Helper()
	m := p.next(ctx, t)
	pg, ok := m.(derp.PeerGoneMessage)
	if !ok {
		t.Fatalf("%s: got %s, want PeerGoneMessage{%v, reason %d}", p.name, describe(m), who.ShortString(), reason)
	}
	if pg.Peer != who || pg.Reason != reason {
		t.Fatalf("%s: got PeerGoneMessage{%v, reason %d}, want {%v, reason %d}",
			p.name, pg.Peer.ShortString(), pg.Reason, who.ShortString(), reason)
	}
}

// TestPingPong: a Ping's 8 bytes come back in a Pong.
func TestPingPong(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	s := startServer(t, serverOptions{})
	a := newPeer(ctx, t, s, "A", peerOptions{canAckPings: true})

	t.Run("SendPing", func(t *testing.T) {
		for range 5 {
			var data [8]byte
			copy(data[:], randBytes(t, 8))
			if err := a.c.SendPing(data); err != nil {
				t.Fatalf("SendPing: %v", err)
			}
			m := a.next(ctx, t)
			pong, ok := m.(derp.PongMessage)
			if !ok {
				t.Fatalf("got %s, want PongMessage", describe(m))
			}
			if !bytes.Equal(pong[:], data[:]) {
				t.Fatalf("pong %x, want %x", pong[:], data[:])
			}
		}
	})

	t.Run("derphttp.Ping", func(t *testing.T) {
		// The client's own liveness check (as tailscaled uses after a
		// network change): it matches the Pong internally.
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := a.c.Ping(pctx); err != nil {
			t.Fatalf("derphttp Client.Ping: %v", err)
		}
	})
}
