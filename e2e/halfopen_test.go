package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"tailscale.com/derp"
	"tailscale.com/types/key"
)

const (
	// halfOpenPort is the relay's plain-HTTP DERP port in its namespace.
	halfOpenPort = "3340"
	// The veth pair between the relay's namespace and the victim's
	// (TEST-NET-1 addresses: nothing leaves the two namespaces).
	relayVethIP  = "192.0.2.1"
	victimVethIP = "192.0.2.2"
	// halfOpenDropBound is how long the relay may take to drop a vanished
	// client with -tcp-keepalive-time 1s -tcp-user-timeout 3s: the first probe
	// after 1 s idle, one a second after it, and the user timeout abandons the
	// connection once nothing was acknowledged for 3 s; about 4 s, with room
	// for a loaded machine.
	halfOpenDropBound = 20 * time.Second
	// halfOpenControlWait is how long a vanished client must still be present
	// with derper's defaults (keepalive after 10 min idle, user timeout 15 s
	// that only counts once the relay has unacknowledged data for it).
	halfOpenControlWait = 5 * time.Second
	// derpTimeout bounds one DERP exchange: a handshake, a packet through.
	derpTimeout = 10 * time.Second
)

// TestHalfOpenClient: a client whose network vanishes without a FIN or RST
// (its end of a veth pair goes down, so not even a reset can reach the relay)
// is dropped by the relay once TCP keepalive and the user timeout give up on
// it, within a bound derived from -tcp-keepalive-time and -tcp-user-timeout.
// A mesh-key watcher sees it come and go; only that connection is affected:
// the watcher and a fresh client still exchange packets through the relay
// afterwards. With derper's default settings the same client is still there
// a few seconds after its link went down.
func TestHalfOpenClient(t *testing.T) {
	t.Run("short timeouts drop it", func(t *testing.T) {
		h := startHalfOpenRelay(t, "-tcp-keepalive-time", "1s", "-tcp-user-timeout", "3s")
		victim := h.connectVictim()
		vanished := h.cutVictim()

		gone := h.watcher.await(t, halfOpenDropBound, "PeerGone for the victim", func(m derp.ReceivedMessage) bool {
			g, ok := m.(derp.PeerGoneMessage)
			return ok && g.Peer == victim
		})
		took := time.Since(vanished)
		t.Logf("the relay dropped the vanished client %s after its link went down (PeerGone reason %d)",
			took.Round(time.Millisecond), gone.(derp.PeerGoneMessage).Reason)
		// The kernel gave up on the socket (ETIMEDOUT): not a FIN (end of
		// stream) or a reset, which would have said something else.
		h.relay.waitForLog(t, regexp.MustCompile(`\[`+regexp.QuoteMeta(shortKey(victim))+`\].*: .*Connection timed out`),
			derpTimeout)

		// Only the vanished connection went: the watcher and a new client
		// exchange packets both ways.
		fresh := h.dial(t, h.relayNS, "127.0.0.1:"+halfOpenPort, key.NewNode())
		h.watcher.await(t, derpTimeout, "PeerPresent for the fresh client", func(m derp.ReceivedMessage) bool {
			p, ok := m.(derp.PeerPresentMessage)
			return ok && p.Key == fresh.pub
		})
		fresh.sendTo(t, h.watcher, []byte("after the half-open client"))
		h.watcher.sendTo(t, fresh, []byte("and back"))

		// The relay's connection gauge no longer counts the vanished client:
		// of the three it accepted, it has the watcher and the fresh client
		// at shutdown.
		if h.relay.stop(t) {
			return
		}
		h.relay.waitForLog(t, regexp.MustCompile(`shutting down: telling 2 client\(s\) to reconnect`), derpTimeout)
		h.relay.waitForLog(t, regexp.MustCompile(`relay stopped: accepts=3 `), derpTimeout)
	})

	t.Run("default timeouts keep it", func(t *testing.T) {
		h := startHalfOpenRelay(t)
		victim := h.connectVictim()
		h.cutVictim()
		h.watcher.expectNone(t, halfOpenControlWait, "PeerGone for the victim", func(m derp.ReceivedMessage) bool {
			g, ok := m.(derp.PeerGoneMessage)
			return ok && g.Peer == victim
		})
		t.Logf("with the default -tcp-keepalive-time and -tcp-user-timeout the vanished client is still present "+
			"%s after its link went down", halfOpenControlWait)
	})
}

// halfOpen is one scenario's world: the relay in its namespace, a victim
// namespace joined to it by a veth pair, and a mesh-key watcher.
type halfOpen struct {
	t        *testing.T
	relayNS  *namespace
	victimNS *namespace
	relay    *process
	watcher  *derpPeer
}

func startHalfOpenRelay(t *testing.T, flags ...string) *halfOpen {
	h := &halfOpen{t: t, relayNS: newNamespace(t), victimNS: newNamespace(t)}
	// Made inside the relay's namespace, the pair's names clash with nothing
	// on the machine, and deleting either namespace deletes the pair.
	mustRun(t, "ip", "-n", h.relayNS.name, "link", "add", "relay0", "type", "veth", "peer", "name", "victim0",
		"netns", h.victimNS.name)
	mustRun(t, "ip", "-n", h.relayNS.name, "addr", "add", relayVethIP+"/24", "dev", "relay0")
	mustRun(t, "ip", "-n", h.victimNS.name, "addr", "add", victimVethIP+"/24", "dev", "victim0")
	mustRun(t, "ip", "-n", h.relayNS.name, "link", "set", "relay0", "up")
	mustRun(t, "ip", "-n", h.victimNS.name, "link", "set", "victim0", "up")

	dir := t.TempDir()
	meshKey := make([]byte, 32)
	if _, err := rand.Read(meshKey); err != nil {
		t.Fatal(err)
	}
	meshKeyFile := filepath.Join(dir, "mesh.key")
	if err := os.WriteFile(meshKeyFile, []byte(hex.EncodeToString(meshKey)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// Plain HTTP (the port is not 443 and -certmode is not manual), no STUN,
	// no mesh peers: only the watcher uses the key. DEBUG logs why the
	// relay closed a connection.
	script := fmt.Sprintf("exec ./jderper run -a :%s -http-port -1 -stun=false -c %s -mesh-psk-file %s",
		halfOpenPort, filepath.Join(dir, "derper.key"), meshKeyFile)
	for _, f := range flags {
		script += " " + f
	}
	started := time.Now()
	h.relay = h.relayNS.start(t, "jderper", []string{"JDERPER_LOG_LEVEL=DEBUG"}, script)
	h.relay.waitForLog(t, regexp.MustCompile(`listening on .*:`+halfOpenPort), startTimeout)
	t.Logf("relay listening after %s", time.Since(started).Round(time.Millisecond))

	mk, err := key.ParseDERPMesh(hex.EncodeToString(meshKey))
	if err != nil {
		t.Fatal(err)
	}
	h.watcher = h.dial(t, h.relayNS, "127.0.0.1:"+halfOpenPort, key.NewNode(), derp.MeshKey(mk))
	if err := h.watcher.client.WatchConnectionChanges(); err != nil {
		t.Fatalf("watching connection changes: %v", err)
	}
	return h
}

// connectVictim connects a client from the victim's namespace over the veth
// pair, waits until the watcher sees it, and proves it relays: the watcher
// gets a packet from it.
func (h *halfOpen) connectVictim() key.NodePublic {
	t := h.t
	victim := h.dial(t, h.victimNS, net.JoinHostPort(relayVethIP, halfOpenPort), key.NewNode())
	present := h.watcher.await(t, derpTimeout, "PeerPresent for the victim", func(m derp.ReceivedMessage) bool {
		p, ok := m.(derp.PeerPresentMessage)
		return ok && p.Key == victim.pub
	}).(derp.PeerPresentMessage)
	if present.IPPort.Addr().String() != victimVethIP {
		t.Fatalf("the victim connected from %s, want %s (over the veth pair)", present.IPPort, victimVethIP)
	}
	victim.sendTo(t, h.watcher, []byte("before the link goes down"))
	return victim.pub
}

// cutVictim takes the victim's end of the veth pair down: from then on the
// victim's kernel can send nothing, not even a FIN or RST, and the relay's
// packets to it go nowhere. Its socket stays open (closed at the test's end,
// when nothing can leave the namespace any more).
func (h *halfOpen) cutVictim() time.Time {
	mustRun(h.t, "ip", "-n", h.victimNS.name, "link", "set", "victim0", "down")
	return time.Now()
}

// derpPeer is a DERP client over plain HTTP, with a goroutine reading its
// frames into a channel so every wait for one can be bounded.
type derpPeer struct {
	pub    key.NodePublic
	conn   net.Conn
	client *derp.Client
	frames chan derp.ReceivedMessage
}

// dial connects priv to the relay at address from inside ns: the HTTP
// upgrade, ClientInfo, and ServerInfo back.
func (h *halfOpen) dial(t *testing.T, ns *namespace, address string, priv key.NodePrivate,
	opts ...derp.ClientOpt) *derpPeer {
	t.Helper()
	conn := ns.dial(t, address, derpTimeout)
	t.Cleanup(func() { conn.Close() })
	conn.SetDeadline(time.Now().Add(derpTimeout))
	brw := bufio.NewReadWriter(bufio.NewReader(conn), bufio.NewWriter(conn))
	fmt.Fprintf(brw, "GET /derp HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: DERP\r\n\r\n", address)
	if err := brw.Flush(); err != nil {
		t.Fatalf("upgrade request to %s: %v", address, err)
	}
	resp, err := http.ReadResponse(brw.Reader, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		t.Fatalf("upgrade at %s: %v %v", address, resp, err)
	}
	client, err := derp.NewClient(priv, conn, brw, t.Logf, opts...)
	if err != nil {
		t.Fatalf("DERP handshake with %s: %v", address, err)
	}
	m, err := client.Recv()
	if err != nil {
		t.Fatalf("waiting for ServerInfo from %s: %v", address, err)
	}
	if _, ok := m.(derp.ServerInfoMessage); !ok {
		t.Fatalf("first frame from %s is %T, want ServerInfo", address, m)
	}
	conn.SetDeadline(time.Time{})
	p := &derpPeer{pub: priv.Public(), conn: conn, client: client, frames: make(chan derp.ReceivedMessage, 64)}
	go p.read()
	return p
}

// read forwards frames until the connection fails or is closed. Packets are
// copied: Recv reuses its buffer.
func (p *derpPeer) read() {
	defer close(p.frames)
	for {
		m, err := p.client.Recv()
		if err != nil {
			return
		}
		if pkt, ok := m.(derp.ReceivedPacket); ok {
			pkt.Data = bytes.Clone(pkt.Data)
			m = pkt
		}
		p.frames <- m
	}
}

// await returns the first frame match accepts, skipping others, within
// timeout.
func (p *derpPeer) await(t *testing.T, timeout time.Duration, what string,
	match func(derp.ReceivedMessage) bool) derp.ReceivedMessage {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		select {
		case m, ok := <-p.frames:
			if !ok {
				t.Fatalf("connection closed while waiting for %s", what)
			}
			if match(m) {
				return m
			}
		case <-deadline.C:
			t.Fatalf("no %s within %s", what, timeout)
		}
	}
}

// expectNone fails if a frame match accepts arrives within d (or the
// connection ends).
func (p *derpPeer) expectNone(t *testing.T, d time.Duration, what string, match func(derp.ReceivedMessage) bool) {
	t.Helper()
	deadline := time.NewTimer(d)
	defer deadline.Stop()
	for {
		select {
		case m, ok := <-p.frames:
			if !ok {
				t.Fatalf("connection closed while checking that no %s comes", what)
			}
			if match(m) {
				t.Fatalf("%s arrived within %s: %#v", what, d, m)
			}
		case <-deadline.C:
			return
		}
	}
}

// sendTo sends data to dst through the relay and waits for it there.
func (p *derpPeer) sendTo(t *testing.T, dst *derpPeer, data []byte) {
	t.Helper()
	if err := p.client.Send(dst.pub, data); err != nil {
		t.Fatalf("sending to %s: %v", dst.pub.ShortString(), err)
	}
	dst.await(t, derpTimeout, fmt.Sprintf("packet %q", data), func(m derp.ReceivedMessage) bool {
		pkt, ok := m.(derp.ReceivedPacket)
		return ok && pkt.Source == p.pub && bytes.Equal(pkt.Data, data)
	})
}

// shortKey is how the relay names a key in its log: the first 8 hex digits.
func shortKey(k key.NodePublic) string {
	return k.UntypedHexString()[:8]
}
