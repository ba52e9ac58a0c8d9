package interop

// `jderper check`: passes against a working server in each certificate
// mode, for a URL and for the DERP map `jderper derpmap` prints, and fails
// with a clear message against a wrong pin, a closed STUN port and a
// stopped server.

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// runCheck runs `java -jar $JDERPER_JAR check args...` and returns its
// output and exit status.
func runCheck(ctx context.Context, t *testing.T, args ...string) (string, int) {
	t.Helper()
	cmd := jderperCommand(ctx, t, "check", args...)
	out, err := cmd.CombinedOutput()
	if ctx.Err() != nil {
		t.Fatalf("jderper check did not finish: %v\n%s", ctx.Err(), out)
	}
	if err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			return string(out), exit.ExitCode()
		}
		t.Fatalf("jderper check: %v\n%s", err, out)
	}
	return string(out), 0
}

func expectCheck(t *testing.T, out string, status, wantStatus int, wants ...string) {
	t.Helper()
	if status != wantStatus {
		t.Errorf("exit status %d, want %d\n%s", status, wantStatus, out)
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestCheckCommand(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)

	t.Run("ip-only-pinned", func(t *testing.T) {
		s := startServer(t, serverOptions{stun: true})
		url := "https://" + s.Addr() + "/derp"
		stun := strconv.Itoa(s.STUNPort)
		out, status := runCheck(ctx, t, "-cert-name", s.Node.CertName, "-stun-port", stun, url)
		expectCheck(t, out, status, 0, "ok    STUN", "ok    TLS", "ok    DERP", "ok    relay", "PASS: 4 checks passed")

		out, status = runCheck(ctx, t, "-cert-name", "sha256-raw:"+strings.Repeat("ab", 32), "-stun-port", stun,
			"-timeout", "5s", url)
		expectCheck(t, out, status, 1, "FAIL  TLS", "cert hash does not match", "FAIL: ")

		// A port held by a socket that never answers, not a freed one: a freed ephemeral port can become the
		// check's own source port, and its request then arrives back at itself as a stray datagram.
		silent, err := net.ListenPacket("udp", net.JoinHostPort(hostIP, "0"))
		if err != nil {
			t.Fatalf("binding a silent UDP port: %v", err)
		}
		defer silent.Close()
		closed := strconv.Itoa(silent.LocalAddr().(*net.UDPAddr).Port)
		out, status = runCheck(ctx, t, "-cert-name", s.Node.CertName, "-stun-port", closed, url)
		expectCheck(t, out, status, 1, "FAIL  STUN", "no answer from "+hostIP+":"+closed, "ok    relay")

		s.stop(t)
		out, status = runCheck(ctx, t, "-cert-name", s.Node.CertName, "-stun-port", stun, "-timeout", "5s", url)
		expectCheck(t, out, status, 1, "FAIL  TLS", "connection refused", "FAIL  DERP")
	})

	t.Run("dns-name-with-ca-file", func(t *testing.T) {
		s := startServer(t, serverOptions{dnsName: "localhost", stun: true})
		out, status := runCheck(ctx, t, "-ca-file", s.CertFile(), "-stun-port", strconv.Itoa(s.STUNPort),
			"https://localhost:"+strconv.Itoa(s.Port)+"/derp")
		expectCheck(t, out, status, 0, "ok    TLS", "issued by", "PASS: 4 checks passed")
	})

	t.Run("derp-map-files", func(t *testing.T) {
		s := startServer(t, serverOptions{stun: true})
		flags := []string{"-a", s.Addr(), "-certmode", "manual", "-hostname", s.HostName, "-certdir", s.CertDir,
			"-stun-port", strconv.Itoa(s.STUNPort)}
		for _, format := range []string{"json", "yaml"} {
			file := filepath.Join(t.TempDir(), "derp."+format)
			if err := os.WriteFile(file, []byte(runDerpMap(ctx, t, append([]string{"-format", format}, flags...)...)), 0o644); err != nil {
				t.Fatal(err)
			}
			out, status := runCheck(ctx, t, file)
			expectCheck(t, out, status, 0, "node 900a (region 900)", "pinned sha256-raw:"+s.CertPin, "PASS: 4 checks passed")
		}
	})

	t.Run("bad-command-lines", func(t *testing.T) {
		for _, args := range [][]string{{}, {"-timeout", "0s", "https://x/derp"}, {"-cert-name", "sha256-raw:zz", "https://x/derp"},
			{"ftp://x/derp"}, {"-ca-file", "/nonexistent.pem", "https://x/derp"}} {
			out, status := runCheck(ctx, t, args...)
			expectCheck(t, out, status, 2, "Usage: jderper check")
		}
	})
}
