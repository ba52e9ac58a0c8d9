package interop

// Client admission (spec §4.9): derper's -verify-clients (a local
// tailscaled's LocalAPI) and -verify-client-url (an admission service), and
// jderper's own -allowlist and -bearer-token-file, each with a pinned
// IP-only server and a server with a DNS name. A key the mode knows must be
// admitted (ServerInfo, then packets); any other key must be refused before
// ServerInfo.

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"tailscale.com/client/local"
	"tailscale.com/client/tailscale/apitype"
	"tailscale.com/derp"
	"tailscale.com/derp/derphttp"
	"tailscale.com/net/netmon"
	"tailscale.com/tailcfg"
	"tailscale.com/types/key"
)

// admissionTLSModes are the two ways a relay is reached: by IP with a pinned
// self-signed certificate (no domain), and by a DNS name.
var admissionTLSModes = []struct {
	name    string
	dnsName string
}{
	{"ip-only", ""},
	{"dns-name", "derp.jderper.test"},
}

// expectAdmitted connects with priv and relays one packet to a second client.
func expectAdmitted(ctx context.Context, t *testing.T, s *server, name string, priv key.NodePrivate, partner *peer) {
	t.Helper()
	p := newPeer(ctx, t, s, name, peerOptions{priv: priv})
	pkt := randBytes(t, 300)
	p.send(t, partner.pub, pkt)
	partner.expectPacket(ctx, t, p, pkt)
}

// expectRefused connects with priv like tailscaled and requires the
// connection to end without ServerInfo.
func expectRefused(ctx context.Context, t *testing.T, s *server, name string, priv key.NodePrivate) {
	t.Helper()
	region := s.Region
	c := derphttp.NewRegionClient(priv, safeLogf(t, name+": "), netmon.NewStatic(),
		func() *tailcfg.DERPRegion { return region })
	defer c.Close()
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := c.Connect(cctx); err != nil {
		t.Logf("%s: refused at connect: %v", name, err)
		return
	}
	type result struct {
		m   derp.ReceivedMessage
		err error
	}
	ch := make(chan result, 1)
	go func() {
		m, err := c.Recv()
		ch <- result{m, err}
	}()
	select {
	case r := <-ch:
		if r.err == nil {
			t.Fatalf("%s: the server answered %s to a key it should refuse", name, describe(r.m))
		}
		t.Logf("%s: refused: %v", name, r.err)
	case <-time.After(recvTimeout):
		t.Fatalf("%s: the server neither admitted nor closed within %v", name, recvTimeout)
	}
}

// fakeTailscaled serves tailscaled's LocalAPI whois on a unix socket the way
// tailscaled v1.102.3 does (ipn/localapi): 200 with an apitype.WhoIsResponse
// for a node of the tailnet, 404 for any other key, 400 for a bad addr.
type fakeTailscaled struct {
	socket string
	mu     sync.Mutex
	asked  []key.NodePublic
}

func startFakeTailscaled(t *testing.T, known ...key.NodePublic) *fakeTailscaled {
	t.Helper()
	// A short path: unix socket paths are limited to 107 bytes.
	dir, err := os.MkdirTemp("", "ts")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	f := &fakeTailscaled{socket: filepath.Join(dir, "tailscaled.sock")}
	ln, err := net.Listen("unix", f.socket)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/localapi/v0/whois", func(w http.ResponseWriter, r *http.Request) {
		addr := r.FormValue("addr")
		if !strings.HasPrefix(addr, "nodekey:") {
			http.Error(w, "invalid 'addr' parameter", http.StatusBadRequest)
			return
		}
		var k key.NodePublic
		if err := k.UnmarshalText([]byte(addr)); err != nil {
			http.Error(w, "invalid nodekey in 'addr' parameter", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.asked = append(f.asked, k)
		f.mu.Unlock()
		if !slices.Contains(known, k) {
			http.Error(w, "no match for IP:port", http.StatusNotFound)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(&apitype.WhoIsResponse{
			Node:        &tailcfg.Node{ID: 7, StableID: "n7", Name: "laptop.tailnet.test.", Key: k},
			UserProfile: &tailcfg.UserProfile{ID: 1, LoginName: "alice@tailnet.test", DisplayName: "Alice"},
			CapMap:      tailcfg.PeerCapMap{},
		})
	})
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	// The fake answers Tailscale's own LocalAPI client as tailscaled does.
	lc := &local.Client{Socket: f.socket, UseSocketOnly: true}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if res, err := lc.WhoIsNodeKey(ctx, known[0]); err != nil || res.Node.Key != known[0] {
		t.Fatalf("fake tailscaled: WhoIsNodeKey(known) = %+v, %v", res, err)
	}
	if _, err := lc.WhoIsNodeKey(ctx, key.NewNode().Public()); !errors.Is(err, local.ErrPeerNotFound) {
		t.Fatalf("fake tailscaled: WhoIsNodeKey(unknown) error %v, want local.ErrPeerNotFound", err)
	}
	f.mu.Lock()
	f.asked = nil
	f.mu.Unlock()
	return f
}

func (f *fakeTailscaled) askedAbout(k key.NodePublic) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, a := range f.asked {
		if a == k {
			return true
		}
	}
	return false
}

// admissionService is an admission URL answering as Headscale's /verify
// does: DERPAdmitClientResponse{Allow} for the DERPAdmitClientRequest.
type admissionService struct {
	*httptest.Server
	mu      sync.Mutex
	sources []string
}

func startAdmissionService(t *testing.T, known ...key.NodePublic) *admissionService {
	t.Helper()
	a := &admissionService{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
			return
		}
		var req tailcfg.DERPAdmitClientRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		a.mu.Lock()
		a.sources = append(a.sources, req.Source.String())
		a.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		json.NewEncoder(w).Encode(&tailcfg.DERPAdmitClientResponse{Allow: slices.Contains(known, req.NodePublic)})
	}))
	t.Cleanup(a.Close)
	return a
}

// rawTokenSession upgrades a raw TLS connection with an Authorization header
// (no Tailscale client can send one) and reports whether ServerInfo came.
func rawTokenSession(ctx context.Context, t *testing.T, s *server, token string) error {
	t.Helper()
	tc := s.dialTLS(ctx, t, 0)
	defer tc.Close()
	brw := bufio.NewReadWriter(bufio.NewReader(tc), bufio.NewWriter(tc))
	req := strings.Replace(upgradeRequest(s, false), "\r\n\r\n", "\r\nAuthorization: Bearer "+token+"\r\n\r\n", 1)
	if _, err := brw.WriteString(req); err != nil {
		t.Fatal(err)
	}
	if err := brw.Flush(); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(brw.Reader, nil)
	if err != nil {
		return fmt.Errorf("reading the upgrade response: %w", err)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fmt.Errorf("upgrade answered %s", resp.Status)
	}
	c, err := derp.NewClient(key.NewNode(), tc, brw, safeLogf(t, "token: "))
	if err != nil {
		return err
	}
	tc.SetReadDeadline(time.Now().Add(recvTimeout))
	m, err := c.Recv()
	if err != nil {
		return err
	}
	if _, ok := m.(derp.ServerInfoMessage); !ok {
		return fmt.Errorf("first message %s, want ServerInfo", describe(m))
	}
	return nil
}

func TestAdmission(t *testing.T) {
	for _, mode := range admissionTLSModes {
		t.Run(mode.name, func(t *testing.T) {
			member, partner, stranger := key.NewNode(), key.NewNode(), key.NewNode()
			// check runs one mode: the member relays to the partner, the stranger is refused.
			check := func(t *testing.T, s *server) {
				ctx := testContext(t, 90*time.Second)
				other := newPeer(ctx, t, s, "partner", peerOptions{priv: partner})
				expectAdmitted(ctx, t, s, "member", member, other)
				expectRefused(ctx, t, s, "stranger", stranger)
			}

			t.Run("verify-clients", func(t *testing.T) {
				ts := startFakeTailscaled(t, member.Public(), partner.Public())
				s := startServer(t, serverOptions{dnsName: mode.dnsName,
					args: []string{"-verify-clients", "-socket", ts.socket}})
				check(t, s)
				if !ts.askedAbout(stranger.Public()) {
					t.Fatalf("the server refused the stranger without asking tailscaled")
				}
			})

			t.Run("verify-client-url", func(t *testing.T) {
				svc := startAdmissionService(t, member.Public(), partner.Public())
				s := startServer(t, serverOptions{dnsName: mode.dnsName,
					args: []string{"-verify-client-url", svc.URL + "/verify", "-verify-client-url-fail-open=false"}})
				check(t, s)
				svc.mu.Lock()
				sources := slices.Clone(svc.sources)
				svc.mu.Unlock()
				if len(sources) == 0 || sources[0] != hostIP {
					t.Fatalf("the admission service saw sources %q, want the client's address %s", sources, hostIP)
				}
			})

			t.Run("allowlist", func(t *testing.T) {
				if sel := os.Getenv(envServer); strings.HasPrefix(sel, serverGoDerper) {
					t.Skipf("-allowlist is jderper's own flag; the server under test (%s=%s) has none", envServer, sel)
				}
				list := filepath.Join(t.TempDir(), "allowlist.txt")
				text := fmt.Sprintf("# the tailnet\n%v\n%v # partner\n", member.Public(), partner.Public())
				if err := os.WriteFile(list, []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
				check(t, startServer(t, serverOptions{dnsName: mode.dnsName, jderperArgs: []string{"-allowlist", list}}))
			})

			t.Run("bearer-token", func(t *testing.T) {
				if sel := os.Getenv(envServer); strings.HasPrefix(sel, serverGoDerper) {
					t.Skipf("-bearer-token-file is jderper's own flag; the server under test (%s=%s) has none", envServer,
						sel)
				}
				ctx := testContext(t, 90*time.Second)
				token := fmt.Sprintf("%x", randBytes(t, 24))
				file := filepath.Join(t.TempDir(), "token")
				if err := os.WriteFile(file, []byte(token+"\n"), 0o600); err != nil {
					t.Fatal(err)
				}
				// The admission service knows no key: only the token gets a client in; another token is refused, and
				// so is a client without one (every Tailscale client).
				svc := startAdmissionService(t)
				s := startServer(t, serverOptions{dnsName: mode.dnsName, args: []string{"-verify-client-url",
					svc.URL + "/verify", "-verify-client-url-fail-open=false"}, jderperArgs: []string{
					"-bearer-token-file", file}})
				if err := rawTokenSession(ctx, t, s, token); err != nil {
					t.Fatalf("the right token, refused by the admission service otherwise: %v", err)
				}
				if err := rawTokenSession(ctx, t, s, token+"x"); err == nil {
					t.Fatalf("a wrong token was admitted")
				}
				expectRefused(ctx, t, s, "tokenless", stranger)
			})
		})
	}
}
