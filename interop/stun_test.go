package interop

// STUN (spec §6): Tailscale's own client code gets its mapped address from
// the server; a generic RFC 5389 client (coturn's turnutils_stunclient) gets
// no answer, as from derper, unless jderper runs with -stun-any-client; and
// -derp=false leaves STUN running while /derp answers 404.

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"tailscale.com/net/netcheck"
	"tailscale.com/net/netmon"
	"tailscale.com/net/stun"
)

const (
	stunTimeout = 10 * time.Second // one STUN round trip, retries included
	// genericClientWait bounds how long turnutils_stunclient may wait for an
	// answer that must not come; the server's own counters (read from its
	// log after it stops) then prove the request arrived and was ignored.
	genericClientWait = 3 * time.Second
)

// stunRoundTrip sends Tailscale's binding request (net/stun.Request) from a
// fresh loopback socket to the server's STUN port and returns the reply, the
// mapped address Tailscale's parser reads from it and the socket's own address.
// Requests are re-sent every 500 ms until an answer or stunTimeout: derper
// binds its STUN socket in a goroutine, possibly after its TLS port accepts.
func stunRoundTrip(t *testing.T, s *server) (reply []byte, mapped, local netip.AddrPort) {
	t.Helper()
	conn, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(hostIP)})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	local = conn.LocalAddr().(*net.UDPAddr).AddrPort()
	to := &net.UDPAddr{IP: net.ParseIP(hostIP), Port: s.STUNPort}
	txid := stun.NewTxID()
	req := stun.Request(txid)
	buf := make([]byte, 1500)
	deadline := time.Now().Add(stunTimeout)
	for time.Now().Before(deadline) {
		if _, err := conn.WriteToUDP(req, to); err != nil {
			t.Fatalf("sending the STUN request: %v", err)
		}
		conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
		n, _, err := conn.ReadFromUDPAddrPort(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			continue
		}
		if err != nil {
			t.Fatalf("reading the STUN reply: %v", err)
		}
		tid, addr, err := stun.ParseResponse(buf[:n])
		if err != nil {
			t.Fatalf("net/stun.ParseResponse(% x): %v", buf[:n], err)
		}
		if tid != txid {
			t.Fatalf("reply for transaction %x, want %x", tid, txid)
		}
		return append([]byte(nil), buf[:n]...), addr, local
	}
	t.Fatalf("no STUN reply from %v within %v", to, stunTimeout)
	return nil, netip.AddrPort{}, local
}

func TestSTUN(t *testing.T) {
	s := startServer(t, serverOptions{stun: true})

	t.Run("net-stun", func(t *testing.T) {
		reply, mapped, local := stunRoundTrip(t, s)
		if mapped != local {
			t.Errorf("mapped address %v, want the client's own %v", mapped, local)
		}
		// derper answers a dual-stack socket's IPv4 senders in the 44-byte
		// IPv4-mapped form; with -a on an IPv4 address both send 32 bytes.
		if len(reply) != 32 {
			t.Errorf("reply of %d bytes, want 32 (header + XOR-MAPPED-ADDRESS only): % x", len(reply), reply)
		}
	})

	t.Run("netcheck", func(t *testing.T) {
		ctx := testContext(t, 30*time.Second)
		c := &netcheck.Client{NetMon: netmon.NewStatic(), Logf: safeLogf(t, "netcheck: ")}
		if err := c.Standalone(ctx, net.JoinHostPort(hostIP, "0")); err != nil {
			t.Fatalf("netcheck Standalone: %v", err)
		}
		r, err := c.GetReport(ctx, s.DERPMap, nil)
		if err != nil {
			t.Fatalf("netcheck GetReport: %v", err)
		}
		if !r.UDP {
			t.Errorf("netcheck says UDP does not work: %+v", r)
		}
		if r.GlobalV4.Addr() != netip.MustParseAddr(hostIP) {
			t.Errorf("netcheck GlobalV4 = %v, want %s:<port>", r.GlobalV4, hostIP)
		}
		if _, ok := r.RegionV4Latency[regionID]; !ok {
			t.Errorf("no IPv4 STUN latency for region %d: %v", regionID, r.RegionV4Latency)
		}
		if r.PreferredDERP != regionID {
			t.Errorf("PreferredDERP = %d, want %d", r.PreferredDERP, regionID)
		}
	})
}

// turnutilsStunclient returns coturn's generic STUN client, installing
// Debian's coturn package when it is missing.
func turnutilsStunclient(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("turnutils_stunclient"); err == nil {
		return p
	}
	t.Logf("turnutils_stunclient not found: installing Debian's coturn package")
	ctx := testContext(t, 5*time.Minute)
	cmd := exec.CommandContext(ctx, "apt-get", "install", "-y", "--no-install-recommends", "coturn")
	cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("installing coturn for turnutils_stunclient (needs root and Debian's package index): %v\n%s", err, out)
	}
	p, err := exec.LookPath("turnutils_stunclient")
	if err != nil {
		t.Fatalf("coturn installed but turnutils_stunclient is not on PATH: %v", err)
	}
	return p
}

// runGenericClient runs turnutils_stunclient against the server's STUN port
// for at most wait and returns its output and whether it had to be stopped.
func runGenericClient(t *testing.T, bin string, s *server, wait time.Duration) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "-p", strconv.Itoa(s.STUNPort), hostIP).CombinedOutput()
	if ctx.Err() != nil {
		return string(out), true
	}
	if err != nil {
		t.Fatalf("turnutils_stunclient: %v\n%s", err, out)
	}
	return string(out), false
}

var stunCountersLine = regexp.MustCompile(`STUN server stopped: datagrams=(\d+) replies=(\d+) ignored=(\d+)`)

func TestSTUNGenericClient(t *testing.T) {
	bin := turnutilsStunclient(t)

	t.Run("ignored-by-default", func(t *testing.T) {
		s := startServer(t, serverOptions{stun: true})
		stunRoundTrip(t, s) // the STUN socket is up
		out, stopped := runGenericClient(t, bin, s, genericClientWait)
		if !stopped || strings.Contains(out, "reflexive addr") {
			t.Fatalf("a generic STUN client got an answer (derper answers only Tailscale's requests):\n%s", out)
		}
		if s.Kind != "jderper" {
			return // derper keeps no counter we can read here; the silence above is the check
		}
		s.stop(t)
		m := stunCountersLine.FindStringSubmatch(s.Log())
		if m == nil {
			t.Fatalf("no STUN counters in the server's log:\n%s", s.Log())
		}
		if m[3] != "1" {
			t.Errorf("ignored=%s, want 1 (turnutils_stunclient's request, received and not answered): %s", m[3], m[0])
		}
	})

	t.Run("answered-with-stun-any-client", func(t *testing.T) {
		if sel := os.Getenv(envServer); strings.HasPrefix(sel, serverGoDerper) {
			t.Skipf("-stun-any-client is jderper's own flag; the server under test (%s=%s) has none", envServer, sel)
		}
		s := startServer(t, serverOptions{stunAnyClient: true})
		stunRoundTrip(t, s)
		out, stopped := runGenericClient(t, bin, s, stunTimeout)
		if stopped {
			t.Fatalf("turnutils_stunclient got no answer within %v:\n%s", stunTimeout, out)
		}
		if !strings.Contains(out, "UDP reflexive addr: "+hostIP+":") {
			t.Errorf("turnutils_stunclient did not print its reflexive address %s:<port>:\n%s", hostIP, out)
		}
	})
}

// TestDERPDisabled: -derp=false keeps the HTTP endpoints and STUN, and /derp
// answers 404 "derp server disabled", as derper does.
func TestDERPDisabled(t *testing.T) {
	s := startServer(t, serverOptions{stun: true, derpOff: true})
	ctx := testContext(t, 30*time.Second)
	runHTTPChecks(ctx, t, s.httpsClient(t), "https://"+s.Addr(), []httpCheck{
		{method: http.MethodGet, path: "/derp", header: map[string]string{"Upgrade": "DERP", "Connection": "Upgrade"},
			wantStatus: http.StatusNotFound, wantBody: strp("derp server disabled\n")},
		{method: http.MethodGet, path: "/derp/probe", wantStatus: http.StatusOK},
	})
	_, mapped, local := stunRoundTrip(t, s)
	if mapped != local {
		t.Errorf("mapped address %v, want %v", mapped, local)
	}
}
