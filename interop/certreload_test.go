package interop

// Certificates in manual mode: a Tailscale client accepts the pinned
// self-signed IP certificate and refuses any other pin, and new certificate
// files are served to new handshakes without a restart while established
// connections keep relaying, also while certificates are rotated under load.

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"encoding/binary"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tailscale.com/derp"
	"tailscale.com/derp/derphttp"
	"tailscale.com/net/netmon"
	"tailscale.com/tailcfg"
	"tailscale.com/types/key"
)

const (
	certReloadWait = 30 * time.Second // the server checks its files every 5 s
	reloadedLine   = "reloaded the certificate for localhost"
)

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
	if !strings.Contains(s.Log(), reloadedLine) {
		t.Errorf("the server did not log the reload:\n%s", s.Log())
	}
}

// TestCertificateReloadUnderLoad rotates the manual-mode certificate several
// times while pairs of peers relay a steady, sequence-numbered packet stream
// and another goroutine keeps opening fresh TLS handshakes and fresh DERP
// connections. No packet may be lost or reordered, no established connection
// may be replaced, and no fresh connection may fail unless it pinned a
// certificate that the server replaced before it dialled.
func TestCertificateReloadUnderLoad(t *testing.T) {
	if sel := os.Getenv(envServer); strings.HasPrefix(sel, serverGoDerper) {
		t.Skipf("derper reads manual-mode certificates once at start; hot reload is jderper's (%s=%s)", envServer, sel)
	}
	const (
		pairs       = 8
		rotations   = 3
		sendEvery   = 5 * time.Millisecond
		window      = 16    // packets in flight per pair: half the server's 32-deep per-client queue
		maxPackets  = 20000 // per sender, 100 s at the pace: a bound the test never reaches
		maxFresh    = 100000
		packetSize  = 200
		warmPackets = 100 // packets every receiver must get before the first and after each rotation
		freshPerPin = 3   // fresh DERP connections made with each new pin before the next rotation
	)
	start := time.Now()
	s := startServer(t, serverOptions{dnsName: "localhost"})
	ctx := testContext(t, 3*time.Minute)
	base := withPin(s, s.CertPin) // a private copy for the fresh-connection loop

	var failed atomic.Bool
	errorf := func(format string, args ...any) {
		failed.Store(true)
		t.Errorf(format, args...)
	}

	// The load: pair i's sender streams to its receiver, at most window packets outstanding.
	senders := make([]*peer, pairs)
	receivers := make([]*peer, pairs)
	for i := range pairs {
		senders[i] = newPeer(ctx, t, s, fmt.Sprintf("S%d", i), peerOptions{})
		receivers[i] = newPeer(ctx, t, s, fmt.Sprintf("R%d", i), peerOptions{})
	}
	all := append(append([]*peer{}, senders...), receivers...)
	localAddrs := make([]netip.AddrPort, len(all))
	for i, p := range all {
		a, err := p.c.LocalAddr()
		if err != nil {
			t.Fatalf("%s: local address: %v", p.name, err)
		}
		localAddrs[i] = a
	}

	credits := make([]chan struct{}, pairs)
	sent := make([]atomic.Uint64, pairs)
	received := make([]atomic.Uint64, pairs)
	for i := range pairs {
		credits[i] = make(chan struct{}, window)
	}

	// One monitor per peer reads everything it receives until stopMonitors:
	// receivers check each packet's source and sequence number, senders must
	// get nothing but keep-alives. ended[i] records a connection that ended.
	stopMonitors := make(chan struct{})
	ended := make([]atomic.Pointer[string], len(all))
	var monitors sync.WaitGroup
	for i, p := range all {
		pair, isReceiver := i-pairs, i >= pairs
		monitors.Add(1)
		go func() {
			defer monitors.Done()
			for {
				var m derp.ReceivedMessage
				var ok bool
				select {
				case <-stopMonitors:
					return
				case m, ok = <-p.msgs:
				}
				if !ok {
					why := fmt.Sprintf("connection ended: %v", p.err)
					ended[i].Store(&why)
					errorf("%s: %s", p.name, why)
					return
				}
				switch v := m.(type) {
				case derp.KeepAliveMessage:
					continue
				case derp.ReceivedPacket:
					if !isReceiver {
						errorf("%s: unexpected %s", p.name, describe(m))
						return
					}
					want := received[pair].Load()
					if v.Source != senders[pair].pub || len(v.Data) != packetSize {
						errorf("%s: got %s, want a %d-byte packet from %s", p.name, describe(m), packetSize, senders[pair].name)
						return
					}
					if got := binary.BigEndian.Uint64(v.Data); got != want {
						errorf("%s: packet #%d arrived when #%d was due (lost or reordered)", p.name, got, want)
						return
					}
					select {
					case <-credits[pair]:
					default:
						errorf("%s: packet #%d arrived without being counted as in flight", p.name, want)
						return
					}
					received[pair].Store(want + 1)
				default:
					errorf("%s: unexpected %s", p.name, describe(m))
					return
				}
			}
		}()
	}

	stopSenders := make(chan struct{})
	var sendersDone sync.WaitGroup
	for i := range pairs {
		sendersDone.Add(1)
		go func() {
			defer sendersDone.Done()
			ticker := time.NewTicker(sendEvery)
			defer ticker.Stop()
			for seq := uint64(0); seq < maxPackets && !failed.Load(); seq++ {
				select {
				case <-stopSenders:
					return
				case <-ticker.C:
				}
				select {
				case <-stopSenders:
					return
				case credits[i] <- struct{}{}:
				case <-time.After(recvTimeout):
					errorf("%s: %d packets unanswered for %v: %s got %d of %d", senders[i].name, window,
						recvTimeout, receivers[i].name, received[i].Load(), seq)
					return
				}
				pkt := make([]byte, packetSize)
				binary.BigEndian.PutUint64(pkt, seq)
				pkt[8] = byte(i)
				if err := senders[i].c.Send(receivers[i].pub, pkt); err != nil {
					errorf("%s: send #%d: %v", senders[i].name, seq, err)
					return
				}
				sent[i].Store(seq + 1)
			}
		}()
	}

	// The fresh-connection loop: a TLS handshake that reports the served
	// certificate, then a DERP connection pinned to it, back to back. pins
	// lists every certificate the server may serve, in order; served[j] is
	// closed when the loop first sees pins[j].
	var pinsMu sync.Mutex
	pins := []string{s.CertPin}
	served := make([]chan struct{}, rotations+1)
	for j := range served {
		served[j] = make(chan struct{})
	}
	close(served[0])
	pinIndex := func(pin string) int {
		pinsMu.Lock()
		defer pinsMu.Unlock()
		return slices.Index(pins, pin)
	}
	var handshakes, freshOK, staleRefused atomic.Int64
	freshPerIndex := make([]atomic.Int64, rotations+1)
	stopFresh := make(chan struct{})
	freshDone := make(chan struct{})
	go func() {
		defer close(freshDone)
		last := 0
		for range maxFresh {
			select {
			case <-stopFresh:
				return
			default:
			}
			if failed.Load() {
				return
			}
			pin, err := handshakePin(ctx, s)
			if err != nil {
				errorf("fresh TLS handshake #%d: %v", handshakes.Load()+1, err)
				return
			}
			idx := pinIndex(pin)
			switch {
			case idx < 0:
				errorf("a fresh handshake got certificate %s, which the test never wrote", pin)
				return
			case idx < last:
				errorf("a fresh handshake got certificate #%d after #%d had been served", idx, last)
				return
			}
			for ; last < idx; last++ {
				close(served[last+1])
			}
			handshakes.Add(1)

			err = freshDERPConnection(ctx, withPin(base, pin))
			if err == nil {
				freshOK.Add(1)
				freshPerIndex[idx].Add(1)
				continue
			}
			// Allowed only if the certificate was replaced between the
			// handshake above and this dial: the pin must be refused and a
			// newer certificate must be served now.
			if strings.Contains(err.Error(), "cert hash does not match") {
				if now, herr := handshakePin(ctx, s); herr == nil && pinIndex(now) > idx {
					staleRefused.Add(1)
					t.Logf("a DERP connection pinned to certificate #%d was refused: #%d was served meanwhile", idx, pinIndex(now))
					continue
				}
			}
			errorf("fresh DERP connection pinned to the served certificate #%d: %v", idx, err)
			return
		}
	}()

	// waitUntil polls cond (cheap counters) until it holds, bounded by d.
	waitUntil := func(d time.Duration, what string, cond func() bool) bool {
		deadline := time.NewTimer(d)
		defer deadline.Stop()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for !cond() {
			if failed.Load() {
				return false
			}
			select {
			case <-deadline.C:
				errorf("%s: not within %v", what, d)
				return false
			case <-ctx.Done():
				errorf("%s: %v", what, ctx.Err())
				return false
			case <-tick.C:
			}
		}
		return true
	}
	receivedAtLeast := func(n []uint64) func() bool {
		return func() bool {
			for i := range pairs {
				if received[i].Load() < n[i] {
					return false
				}
			}
			return true
		}
	}
	progress := func() []uint64 {
		n := make([]uint64, pairs)
		for i := range pairs {
			n[i] = received[i].Load() + warmPackets
		}
		return n
	}

	ok := waitUntil(certReloadWait, "every receiver getting its first packets", receivedAtLeast(progress()))
	reloadTimes := make([]time.Duration, 0, rotations)
	for r := 1; ok && r <= rotations; r++ {
		// A renewal as certbot or an operator does it: new files written beside, then moved in.
		// (Errors end the load rather than the test at once: the goroutines still report into t.)
		staging := t.TempDir()
		var moved time.Time
		if err := renewCert(staging, s, func(newPin string) {
			moved = time.Now()
			pinsMu.Lock()
			pins = append(pins, newPin)
			pinsMu.Unlock()
		}); err != nil {
			errorf("rotation %d: %v", r, err)
			ok = false
			continue
		}
		select {
		case <-served[r]:
			reloadTimes = append(reloadTimes, time.Since(moved).Round(time.Millisecond))
			before := progress()
			ok = waitUntil(certReloadWait, fmt.Sprintf("rotation %d: reload logged, load and fresh connections on the new certificate", r),
				func() bool {
					return receivedAtLeast(before)() && freshPerIndex[r].Load() >= freshPerPin &&
						strings.Count(s.Log(), reloadedLine) >= r
				})
		case <-freshDone:
			ok = false
			if !failed.Load() {
				errorf("the fresh-connection loop stopped before certificate #%d was served", r)
			}
		case <-time.After(certReloadWait):
			errorf("rotation %d: the server still serves the previous certificate %v after the files changed", r, certReloadWait)
			ok = false
		}
	}

	close(stopSenders)
	sendersDone.Wait()
	close(stopFresh)
	<-freshDone
	if ok {
		waitUntil(recvTimeout, "every sent packet received", func() bool {
			for i := range pairs {
				if received[i].Load() != sent[i].Load() {
					return false
				}
			}
			return true
		})
	}
	var totalSent, totalReceived uint64
	for i := range pairs {
		n, m := sent[i].Load(), received[i].Load()
		totalSent += n
		totalReceived += m
		if n != m {
			errorf("%s received %d of the %d packets %s sent", receivers[i].name, m, n, senders[i].name)
		}
	}

	// No established connection was replaced: every receive loop still runs
	// on its first connection (it never reconnects after an error), from the
	// same local address as at the start.
	close(stopMonitors)
	monitors.Wait()
	for i, p := range all {
		if ended[i].Load() != nil {
			continue // already reported
		}
		select {
		case _, open := <-p.msgs:
			if !open {
				errorf("%s: connection ended: %v", p.name, p.err)
				continue
			}
		default:
		}
		if a, err := p.c.LocalAddr(); err != nil || a != localAddrs[i] {
			errorf("%s: connection replaced: local address %v (%v), was %v", p.name, a, err, localAddrs[i])
		}
	}

	// The server's own count: it accepted exactly the load's peers and the
	// fresh connections that succeeded, so no peer reconnected.
	for _, p := range all {
		p.c.Close()
	}
	s.stop(t)
	accepts := -1
	if m := regexp.MustCompile(`relay stopped: accepts=(\d+)`).FindStringSubmatch(s.Log()); m == nil {
		errorf("the server did not log its accept count when it stopped")
	} else if accepts, _ = strconv.Atoi(m[1]); int64(accepts) != int64(len(all))+freshOK.Load() {
		errorf("the server accepted %d DERP connections, want %d load peers + %d fresh connections",
			accepts, len(all), freshOK.Load())
	}
	if n := staleRefused.Load(); n > rotations {
		errorf("%d fresh connections were refused for a replaced pin; at most one per rotation (%d) can race", n, rotations)
	}
	reloads := strings.Count(s.Log(), reloadedLine)
	if reloads != rotations {
		errorf("the server logged %d reloads, want %d", reloads, rotations)
	}
	partial := strings.Count(s.Log(), "changed but do not load")
	t.Logf("%d rotations (served %v after each move; %d checks saw half-moved files), %d packets sent and %d received "+
		"in order by %d pairs, %d fresh TLS handshakes, %d fresh DERP connections (%d refused for a pin replaced "+
		"before dialling), server accepts %d, in %v", rotations, reloadTimes, partial, totalSent, totalReceived, pairs,
		handshakes.Load(), freshOK.Load(), staleRefused.Load(), accepts, time.Since(start).Round(time.Millisecond))
}

// renewCert writes a new certificate for s into staging, hands its pin to
// known, then moves the key and the certificate over s's files.
func renewCert(staging string, s *server, known func(pin string)) error {
	if err := writeCert(staging, s.HostName); err != nil {
		return err
	}
	pin, err := pinOfFile(filepath.Join(staging, s.HostName+".crt"))
	if err != nil {
		return err
	}
	known(pin)
	for _, ext := range []string{".key", ".crt"} {
		if err := os.Rename(filepath.Join(staging, s.HostName+ext), filepath.Join(s.CertDir, s.HostName+ext)); err != nil {
			return err
		}
	}
	return nil
}

// handshakePin does one TLS handshake with s, verifying nothing, and returns
// the hex SHA-256 of the leaf served.
func handshakePin(ctx context.Context, s *server) (string, error) {
	hctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	d := tls.Dialer{Config: &tls.Config{ServerName: s.HostName, InsecureSkipVerify: true}}
	c, err := d.DialContext(hctx, "tcp", s.Addr())
	if err != nil {
		return "", err
	}
	defer c.Close()
	sum := sha256.Sum256(c.(*tls.Conn).ConnectionState().PeerCertificates[0].Raw)
	return hex.EncodeToString(sum[:]), nil
}

// pinOfFile returns the hex SHA-256 of the first certificate in a PEM file.
func pinOfFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	block, _ := pem.Decode(b)
	if block == nil || block.Type != "CERTIFICATE" {
		return "", fmt.Errorf("%s: no PEM certificate", path)
	}
	sum := sha256.Sum256(block.Bytes)
	return hex.EncodeToString(sum[:]), nil
}

// freshDERPConnection connects a new-key derphttp client to s's region and
// requires ServerInfo as its first message, then closes it.
func freshDERPConnection(ctx context.Context, s *server) error {
	region := s.Region
	c := derphttp.NewRegionClient(key.NewNode(), func(string, ...any) {}, netmon.NewStatic(),
		func() *tailcfg.DERPRegion { return region })
	defer c.Close()
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := c.Connect(cctx); err != nil {
		return err
	}
	// Recv has no deadline of its own: closing the client ends it.
	stop := context.AfterFunc(cctx, func() { c.Close() })
	defer stop()
	m, err := c.Recv()
	if err != nil {
		return fmt.Errorf("after connecting: %w", err)
	}
	if _, ok := m.(derp.ServerInfoMessage); !ok {
		return fmt.Errorf("first message %s, want ServerInfo", describe(m))
	}
	return nil
}
