package interop

// Graceful shutdown (spec §4.16): on SIGTERM jderper tells every client when
// to come back (Restarting), drains, closes and exits 0; started again with
// the same key, it takes the clients back.

import (
	"strconv"
	"testing"
	"time"

	"tailscale.com/derp"
)

func TestGracefulRestart(t *testing.T) {
	ctx := testContext(t, 2*time.Minute)
	s := startServer(t, serverOptions{})
	a := newPeer(ctx, t, s, "A", peerOptions{})
	b := newPeer(ctx, t, s, "B", peerOptions{})
	pkt := randBytes(t, 1200)
	a.send(t, b.pub, pkt)
	b.expectPacket(ctx, t, a, pkt)
	serverKey := a.c.ServerPublicKey()

	stopped := time.Now()
	signalGroup(s.cmd, false)
	if s.Kind == "jderper" {
		m := a.next(ctx, t)
		restarting, ok := m.(derp.ServerRestartingMessage)
		if !ok {
			t.Fatalf("A: got %s after SIGTERM, want ServerRestartingMessage", describe(m))
		}
		if restarting.ReconnectIn < time.Second || restarting.ReconnectIn >= 3*time.Second ||
			restarting.TryFor != 5*time.Second {
			t.Fatalf("Restarting hints reconnect in %v, try for %v; want 1 s to 3 s, and 5 s",
				restarting.ReconnectIn, restarting.TryFor)
		}
		if _, err := a.nextErr(ctx, recvTimeout); err == nil {
			t.Fatalf("A: the connection went on after Restarting")
		}
	}
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("the server was still running 10 s after SIGTERM")
	}
	t.Logf("%s stopped %v after SIGTERM: %v", s.Kind, time.Since(stopped).Round(time.Millisecond), s.waitErr)
	if s.Kind == "jderper" && s.waitErr != nil {
		t.Fatalf("jderper ended with %v after SIGTERM, want exit status 0\n%s", s.waitErr, s.Log())
	}

	// The same port, certificate and key: as after a restart by the service manager.
	restarted := startRawServer(t, []string{"-a", s.Addr(), "-certmode", "manual", "-hostname", s.HostName,
		"-certdir", s.CertDir, "-c", s.cmd.Dir + "/derper.key", "-http-port", "-1", "-stun=false"})
	again := *s
	again.cmd, again.out, again.exited = restarted.cmd, restarted.out, restarted.exited
	a2 := newPeer(ctx, t, &again, "A again", peerOptions{priv: a.priv})
	b2 := newPeer(ctx, t, &again, "B again", peerOptions{priv: b.priv})
	if a2.c.ServerPublicKey() != serverKey {
		t.Fatalf("the restarted server has key %v, want %v (same -c file)", a2.c.ServerPublicKey(), serverKey)
	}
	for i := range 3 {
		pkt := []byte("after the restart " + strconv.Itoa(i))
		a2.send(t, b2.pub, pkt)
		b2.expectPacket(ctx, t, a2, pkt)
		b2.send(t, a2.pub, pkt)
		a2.expectPacket(ctx, t, b2, pkt)
	}
}
