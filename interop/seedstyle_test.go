package interop

import (
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// seedHost is the relay's DNS name in the seed-style runs: a manual certificate
// for it is written beforehand, as an operator copies theirs into -certdir.
const seedHost = "derp.example.com"

// TestSeedStyleStart starts jderper the way derper's users run it: once with
// derper's command line (-hostname, -certmode manual, -certdir, -a, -stun,
// -verify-clients), once with nothing but the DERP_* variables of the common
// derper container images. Both must start and serve the same relay: the TLS
// probe under the certificate's name, STUN, and a start-up summary showing the
// same settings, from the flags in one run and from the environment in the other.
func TestSeedStyleStart(t *testing.T) {
	certDir := filepath.Join(t.TempDir(), "certs")
	if err := os.MkdirAll(certDir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := writeCert(certDir, seedHost); err != nil {
		t.Fatal(err)
	}
	for _, fromEnv := range []bool{false, true} {
		name := map[bool]string{false: "derper_flags", true: "DERP_env_only"}[fromEnv]
		t.Run(name, func(t *testing.T) {
			port, stunPort := freePort(t), freeUDPPort(t)
			// -c is set too: as root, derper's default key path is /var/lib/derper/derper.key.
			settings := []struct{ flag, env, value string }{
				{"-hostname", "DERP_DOMAIN", seedHost},
				{"-certmode", "DERP_CERT_MODE", "manual"},
				{"-certdir", "DERP_CERT_DIR", certDir},
				{"-a", "DERP_ADDR", net.JoinHostPort(hostIP, strconv.Itoa(port))},
				{"-stun", "DERP_STUN", "true"},
				{"-stun-port", "DERP_STUN_PORT", strconv.Itoa(stunPort)},
				{"-verify-clients", "DERP_VERIFY_CLIENTS", "true"},
				{"-http-port", "DERP_HTTP_PORT", "-1"},
				{"-c", "DERP_C", filepath.Join(t.TempDir(), "derper.key")},
			}
			var args, env []string
			for _, s := range settings {
				switch {
				case fromEnv:
					env = append(env, s.env+"="+s.value)
				case s.value == "true":
					args = append(args, s.flag) // Go's bare boolean flag, as derper's users write it
				default:
					args = append(args, s.flag, s.value)
				}
			}
			s := startSeedStyle(t, args, env, certDir, port, stunPort)

			for _, st := range settings {
				source := "flag"
				if fromEnv {
					source = "env " + st.env
				}
				line := regexp.MustCompile(`(?m)^\s+` + regexp.QuoteMeta(st.flag) + `\s+` +
					regexp.QuoteMeta(st.value) + `\s+` + regexp.QuoteMeta(source) + `$`)
				if !line.MatchString(s.Log()) {
					t.Errorf("the start-up summary has no line %q", line)
				}
			}
			resp, err := s.httpsClient(t).Get("https://" + s.Addr() + "/derp/probe")
			if err != nil {
				t.Fatalf("probe over TLS as %s: %v", seedHost, err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Errorf("probe: status %d, want 200", resp.StatusCode)
			}
			if _, mapped, local := stunRoundTrip(t, s); mapped != local {
				t.Errorf("STUN mapped %v, want the socket's own %v", mapped, local)
			}
		})
	}
}

// startSeedStyle runs jderper's jar with exactly these flags and extra
// environment variables, and waits for its TLS port and certificate.
func startSeedStyle(t *testing.T, args, env []string, certDir string, port, stunPort int) *server {
	t.Helper()
	jar, java := os.Getenv(envJar), os.Getenv(envJava)
	if jar == "" {
		t.Fatalf("%s is not set: this test runs jderper's jar (./jderper test and ./jderper interop set it)", envJar)
	}
	if java == "" {
		java = "java"
	}
	cmd := jderperJarCommand(java, jar, args)
	// The environment of the run: this process's, without DERP_* variables it may have, plus the run's own.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DERP_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	s := &server{Kind: "jderper", HostName: seedHost, Port: port, STUNPort: stunPort, CertDir: certDir, cmd: cmd,
		out: new(syncBuffer), exited: make(chan struct{})}
	envNote := ""
	if len(env) > 0 {
		envNote = strings.Join(env, " ") + " "
	}
	s.launch(t, envNote)
	deadline := time.Now().Add(startupTimeout)
	if err := s.waitPort(port, deadline); err != nil {
		s.outputShown = true
		t.Fatalf("%v\n--- server output ---\n%s", err, s.Log())
	}
	if err := s.loadCert(deadline); err != nil {
		t.Fatal(err)
	}
	return s
}
