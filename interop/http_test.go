package interop

// Test 5: the HTTP endpoints around DERP, on the TLS port and on the plain
// HTTP (port-80 style) listener.

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

type httpCheck struct {
	method     string
	path       string
	header     map[string]string
	wantStatus int
	wantHeader map[string]string // "" value = header must be absent
	wantBody   *string           // nil = not checked
}

func strp(s string) *string { return &s }

func runHTTPChecks(ctx context.Context, t *testing.T, client *http.Client, base string, checks []httpCheck) {
	for _, c := range checks {
		name := c.method + " " + c.path
		if v, ok := c.header["X-Tailscale-Challenge"]; ok {
			name += " challenge=" + v
		}
		t.Run(name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(ctx, c.method, base+c.path, nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, v := range c.header {
				req.Header.Set(k, v)
			}
			resp, err := client.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", c.method, base+c.path, err)
			}
			body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
			resp.Body.Close()
			if err != nil {
				t.Fatalf("reading body: %v", err)
			}
			if resp.StatusCode != c.wantStatus {
				t.Fatalf("status %d (%q), want %d", resp.StatusCode, body, c.wantStatus)
			}
			if resp.ProtoMajor != 1 || resp.ProtoMinor != 1 {
				t.Errorf("protocol %s, want HTTP/1.1", resp.Proto)
			}
			for k, want := range c.wantHeader {
				got, present := resp.Header[http.CanonicalHeaderKey(k)]
				switch {
				case want == "" && present:
					t.Errorf("header %s: %q, want absent", k, got)
				case want != "" && (len(got) != 1 || got[0] != want):
					t.Errorf("header %s: %q, want [%q]", k, got, want)
				}
			}
			if c.wantBody != nil && string(body) != *c.wantBody {
				t.Errorf("body %q, want %q", body, *c.wantBody)
			}
		})
	}
}

func TestHTTP(t *testing.T) {
	ctx := testContext(t, 60*time.Second)
	s := startServer(t, serverOptions{httpPort: true})

	long := strings.Repeat("a", 65) // a challenge must be at most 64 chars
	challengeChecks := func() []httpCheck {
		return []httpCheck{
			{method: "GET", path: "/generate_204", header: map[string]string{"X-Tailscale-Challenge": "ts_abc"},
				wantStatus: 204, wantHeader: map[string]string{"X-Tailscale-Response": "response ts_abc"}},
			{method: "GET", path: "/generate_204", header: map[string]string{"X-Tailscale-Challenge": "ts_127.0.0.1"},
				wantStatus: 204, wantHeader: map[string]string{"X-Tailscale-Response": "response ts_127.0.0.1"}},
			{method: "GET", path: "/generate_204", header: map[string]string{"X-Tailscale-Challenge": "ts abc!"},
				wantStatus: 204, wantHeader: map[string]string{"X-Tailscale-Response": ""}},
			{method: "GET", path: "/generate_204", header: map[string]string{"X-Tailscale-Challenge": long},
				wantStatus: 204, wantHeader: map[string]string{"X-Tailscale-Response": ""}},
			{method: "GET", path: "/generate_204", wantStatus: 204, wantHeader: map[string]string{"X-Tailscale-Response": ""}},
		}
	}

	t.Run("tls", func(t *testing.T) {
		checks := []httpCheck{
			{method: "GET", path: "/derp/probe", wantStatus: 200, wantHeader: map[string]string{"Access-Control-Allow-Origin": "*"}, wantBody: strp("")},
			{method: "HEAD", path: "/derp/probe", wantStatus: 200, wantHeader: map[string]string{"Access-Control-Allow-Origin": "*"}},
			{method: "POST", path: "/derp/probe", wantStatus: 405},
			{method: "GET", path: "/derp/latency-check", wantStatus: 200, wantHeader: map[string]string{"Access-Control-Allow-Origin": "*"}},
			{method: "HEAD", path: "/derp/latency-check", wantStatus: 200, wantHeader: map[string]string{"Access-Control-Allow-Origin": "*"}},
			{method: "PUT", path: "/derp/latency-check", wantStatus: 405},
			{method: "GET", path: "/derp", wantStatus: 426, wantBody: strp("DERP requires connection upgrade\n")},
		}
		checks = append(checks, challengeChecks()...)
		runHTTPChecks(ctx, t, s.httpsClient(t), "https://"+s.Addr(), checks)
	})

	t.Run("plain-http", func(t *testing.T) {
		host := fmt.Sprintf("%s:%d", hostIP, s.HTTPPort)
		client := &http.Client{
			Transport:     &http.Transport{Proxy: nil, DisableKeepAlives: true},
			Timeout:       10 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
		checks := challengeChecks()
		checks = append(checks,
			// Everything else is redirected to https://<Host header><RequestURI>.
			// ("/" itself is not checked: derper sends loopback clients,
			// which it trusts for debug access, to /debug/ instead.)
			httpCheck{method: "GET", path: "/index.html", wantStatus: 302,
				wantHeader: map[string]string{"Location": "https://" + host + "/index.html"}},
			httpCheck{method: "GET", path: "/derp", wantStatus: 302,
				wantHeader: map[string]string{"Location": "https://" + host + "/derp"}},
			httpCheck{method: "GET", path: "/some/page?x=1&y=2", wantStatus: 302,
				wantHeader: map[string]string{"Location": "https://" + host + "/some/page?x=1&y=2"}},
			httpCheck{method: "HEAD", path: "/derp/probe", wantStatus: 302,
				wantHeader: map[string]string{"Location": "https://" + host + "/derp/probe"}},
			// Other methods are refused (derper: 400 "Use HTTPS").
			httpCheck{method: "POST", path: "/derp", wantStatus: 400},
		)
		runHTTPChecks(ctx, t, client, "http://"+host, checks)
	})
}
