package interop

// Test harness: starting the server under test, the pinned DERP map, DERP
// clients with a background receive loop, and small helpers.

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"tailscale.com/derp"
	"tailscale.com/derp/derpconst"
	"tailscale.com/derp/derphttp"
	"tailscale.com/net/netmon"
	"tailscale.com/net/tlsdial"
	"tailscale.com/tailcfg"
	"tailscale.com/types/key"
)

const (
	// defaultTailscaleVersion is the tailscale.com version pinned in go.mod.
	// The version actually linked into the test binary (see
	// tailscaleVersion) wins if build info is available.
	defaultTailscaleVersion = "v1.102.3"

	hostIP     = "127.0.0.1"
	regionID   = 900
	regionCode = "jderper"
	nodeName   = "900a"

	startupTimeout  = 30 * time.Second // server process until its TLS port accepts
	shutdownTimeout = 5 * time.Second  // per signal when stopping the server
	connectTimeout  = 15 * time.Second // DERP client connect
	recvTimeout     = 10 * time.Second // waiting for one expected DERP message
)

// Environment variables understood by the suite (see README.md).
const (
	envJar         = "JDERPER_JAR"          // runnable jar of jderper (required unless JDERPER_SERVER says otherwise)
	envJava        = "JDERPER_JAVA"         // java binary used to run the jar (default: java on PATH)
	envServer      = "JDERPER_SERVER"       // "" / "jar" (default), "go-derper", "go-derper:/path/to/derper"
	envGoBinCache  = "JDERPER_GO_BIN_CACHE" // where built Go tools (derpprobe, derper) are cached
	envShowLog     = "JDERPER_SHOW_SERVER_LOG"
	serverGoDerper = "go-derper"
)

// testContext returns a context bounded by d that is cancelled when the test ends.
func testContext(t testing.TB, d time.Duration) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	t.Cleanup(cancel)
	return ctx
}

// tailscaleVersion reports the tailscale.com module version linked into this test binary.
func tailscaleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "tailscale.com" {
				if d.Replace != nil {
					return d.Replace.Version
				}
				return d.Version
			}
		}
	}
	return defaultTailscaleVersion
}

// syncBuffer collects the server's stdout and stderr.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// safeLogf returns a logf for Tailscale's packages that forwards to t.Logf
// until the test finishes and drops lines afterwards (background goroutines
// of a client may still log after the test returned, which would panic).
func safeLogf(t testing.TB, prefix string) func(string, ...any) {
	var mu sync.Mutex
	done := false
	t.Cleanup(func() {
		mu.Lock()
		done = true
		mu.Unlock()
	})
	return func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		if !done {
			t.Logf(prefix+format, args...)
		}
	}
}

// ---------------------------------------------------------------------------
// The server under test.

type serverOptions struct {
	// httpPort: also run the plain-HTTP (port-80 style) listener on a free port.
	httpPort bool
	// dnsName: if set, run with -hostname dnsName and a certificate for it
	// (DNS SAN dnsName + IP SAN 127.0.0.1) that the test writes into the cert
	// dir beforehand, instead of the server's self-signed IP certificate. The
	// DERP node then has HostName dnsName and IPv4 127.0.0.1.
	dnsName string
	// stun: run the STUN server on a free UDP port (s.STUNPort) instead of -stun=false.
	stun bool
	// stunAnyClient: also pass jderper's -stun-any-client (implies stun).
	stunAnyClient bool
	// derpOff: pass -derp=false.
	derpOff bool
	// jderperArgs: flags of jderper's own, passed only when the server under test is jderper.
	jderperArgs []string
	// args: more derper flags, passed to either server.
	args []string
}

type server struct {
	Kind     string // "jderper" or "go-derper"
	HostName string // -hostname and DERPNode.HostName
	Port     int    // TLS port (-a)
	HTTPPort int    // plain-HTTP port, 0 if disabled
	STUNPort int    // UDP STUN port, 0 if STUN is off
	CertDir  string
	CertPin  string // lower-case hex SHA-256 of the leaf's DER
	Leaf     *x509.Certificate
	Node     *tailcfg.DERPNode
	Region   *tailcfg.DERPRegion
	DERPMap  *tailcfg.DERPMap

	out         *syncBuffer
	cmd         *exec.Cmd
	exited      chan struct{}
	waitErr     error
	outputShown bool // output already went into a failure message
}

// Addr is the TLS listener's host:port.
func (s *server) Addr() string { return net.JoinHostPort(hostIP, strconv.Itoa(s.Port)) }

// Log returns everything the server process printed so far.
func (s *server) Log() string { return s.out.String() }

// startServer starts the server under test with derper-compatible flags on
// loopback and waits until its TLS port accepts connections and its
// self-signed certificate exists. The process group is killed when the test ends.
func startServer(t *testing.T, opts serverOptions) *server {
	t.Helper()
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		s, retry, err := tryStartServer(t, opts)
		if err == nil {
			return s
		}
		lastErr = err
		if !retry {
			break
		}
		t.Logf("server start attempt %d lost a port race, retrying: %v", attempt, err)
	}
	t.Fatalf("starting the server under test: %v", lastErr)
	return nil
}

func tryStartServer(t *testing.T, opts serverOptions) (_ *server, retry bool, _ error) {
	dir := t.TempDir()
	certDir := filepath.Join(dir, "certs")
	if err := os.MkdirAll(certDir, 0o755); err != nil {
		return nil, false, err
	}
	hostname := hostIP
	if opts.dnsName != "" {
		hostname = opts.dnsName
		if err := writeCert(certDir, hostname); err != nil {
			return nil, false, err
		}
	}
	s := &server{
		HostName: hostname,
		Port:     freePort(t),
		CertDir:  certDir,
		out:      new(syncBuffer),
		exited:   make(chan struct{}),
	}
	httpPortArg := "-1"
	if opts.httpPort {
		s.HTTPPort = freePort(t)
		httpPortArg = strconv.Itoa(s.HTTPPort)
	}
	args := []string{
		"-a", s.Addr(),
		"-certmode", "manual",
		"-hostname", hostname,
		"-certdir", certDir,
		"-c", filepath.Join(dir, "derper.key"),
		"-http-port", httpPortArg,
	}
	if opts.stun || opts.stunAnyClient {
		s.STUNPort = freeUDPPort(t)
		args = append(args, "-stun", "-stun-port", strconv.Itoa(s.STUNPort))
		if opts.stunAnyClient {
			args = append(args, "-stun-any-client")
		}
	} else {
		args = append(args, "-stun=false")
	}
	if opts.derpOff {
		args = append(args, "-derp=false")
	}
	args = append(args, opts.args...)
	if sel := os.Getenv(envServer); !strings.HasPrefix(sel, serverGoDerper) {
		args = append(args, opts.jderperArgs...)
	}
	cmd, kind, err := serverCommand(t, args)
	if err != nil {
		t.Fatal(err) // configuration problem: no point retrying
	}
	s.Kind = kind
	s.cmd = cmd
	cmd.Dir = dir
	cmd.Stdout = s.out
	cmd.Stderr = s.out
	cmd.SysProcAttr = newProcessGroupAttr()

	t.Logf("starting %s: %s", kind, strings.Join(cmd.Args, " "))
	if err := cmd.Start(); err != nil {
		return nil, false, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	go func() {
		s.waitErr = cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })

	deadline := time.Now().Add(startupTimeout)
	ports := []int{s.Port}
	if s.HTTPPort != 0 {
		ports = append(ports, s.HTTPPort)
	}
	for _, p := range ports {
		if err := s.waitPort(p, deadline); err != nil {
			out := s.Log()
			lostRace := strings.Contains(strings.ToLower(out), "address already in use")
			s.outputShown = true
			return nil, lostRace, fmt.Errorf("%w\n--- server output ---\n%s", err, out)
		}
	}
	if err := s.loadCert(deadline); err != nil {
		s.outputShown = true
		return nil, false, fmt.Errorf("%w\n--- server output ---\n%s", err, s.Log())
	}
	s.Node = &tailcfg.DERPNode{
		Name:     nodeName,
		RegionID: regionID,
		HostName: hostname,
		IPv4:     hostIP,
		STUNPort: -1,
		DERPPort: s.Port,
		CertName: "sha256-raw:" + s.CertPin,
	}
	if s.STUNPort != 0 {
		s.Node.STUNPort = s.STUNPort
	}
	s.Region = &tailcfg.DERPRegion{
		RegionID:   regionID,
		RegionCode: regionCode,
		RegionName: "jderper interop",
		Nodes:      []*tailcfg.DERPNode{s.Node},
	}
	s.DERPMap = &tailcfg.DERPMap{Regions: map[int]*tailcfg.DERPRegion{regionID: s.Region}}
	t.Logf("%s ready on %s (http port %d), cert %s", kind, s.Addr(), s.HTTPPort, s.Node.CertName)
	return s, false, nil
}

// startRawServer starts the server under test with exactly these flags (no
// certificate is expected in advance) and waits until the port of -a accepts.
func startRawServer(t *testing.T, args []string) *server {
	t.Helper()
	cmd, kind, err := serverCommand(t, args)
	if err != nil {
		t.Fatal(err)
	}
	s := &server{Kind: kind, cmd: cmd, out: new(syncBuffer), exited: make(chan struct{})}
	s.launch(t, "")
	for i, a := range args {
		if a == "-a" && i+1 < len(args) {
			_, port, _ := net.SplitHostPort(args[i+1])
			p, _ := strconv.Atoi(port)
			if err := s.waitPort(p, time.Now().Add(startupTimeout)); err != nil {
				s.outputShown = true
				t.Fatalf("%v\n--- server output ---\n%s", err, s.Log())
			}
		}
	}
	return s
}

// launch starts s.cmd in a temporary directory and a process group of its
// own, its output into s.out, and stops it when the test ends. envNote is
// logged before the command line: the variables the run adds, if any.
func (s *server) launch(t *testing.T, envNote string) {
	t.Helper()
	s.cmd.Dir = t.TempDir()
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = newProcessGroupAttr()
	t.Logf("starting %s: %s%s", s.Kind, envNote, strings.Join(s.cmd.Args, " "))
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", s.cmd.Path, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })
}

// serverCommand builds the command line for the configured server kind.
func serverCommand(t *testing.T, args []string) (*exec.Cmd, string, error) {
	sel := os.Getenv(envServer)
	switch {
	case sel == "" || sel == "jar" || sel == "jderper":
		jar := os.Getenv(envJar)
		if jar == "" {
			return nil, "", fmt.Errorf("%s is not set: run this suite with `./jderper test` (or `./jderper interop`), "+
				"or set %s to jderper's runnable jar (and optionally %s to a Java 25+ binary); "+
				"to run it against Tailscale's reference server instead set %s=%s or %s=%s:/path/to/derper",
				envJar, envJar, envJava, envServer, serverGoDerper, envServer, serverGoDerper)
		}
		if _, err := os.Stat(jar); err != nil {
			return nil, "", fmt.Errorf("%s=%q: %v", envJar, jar, err)
		}
		java := os.Getenv(envJava)
		if java == "" {
			p, err := exec.LookPath("java")
			if err != nil {
				return nil, "", fmt.Errorf("%s is not set and no java on PATH: %v", envJava, err)
			}
			java = p
		}
		return jderperJarCommand(java, jar, args), "jderper", nil
	case sel == serverGoDerper:
		bin := goToolBinary(t, "tailscale.com/cmd/derper", "derper")
		return exec.Command(bin, args...), serverGoDerper, nil
	case strings.HasPrefix(sel, serverGoDerper+":"):
		bin := strings.TrimPrefix(sel, serverGoDerper+":")
		if _, err := os.Stat(bin); err != nil {
			return nil, "", fmt.Errorf("%s=%q: %v", envServer, sel, err)
		}
		return exec.Command(bin, args...), serverGoDerper, nil
	default:
		return nil, "", fmt.Errorf("%s=%q: want empty, \"jar\", %q or %q", envServer, sel, serverGoDerper, serverGoDerper+":/path/to/derper")
	}
}

// jderperJarCommand runs the relay from its jar with the JVM options it needs.
func jderperJarCommand(java, jar string, args []string) *exec.Cmd {
	full := append([]string{
		"--enable-native-access=ALL-UNNAMED",
		"--sun-misc-unsafe-memory-access=allow",
		"-jar", jar,
	}, args...)
	return exec.Command(java, full...)
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", net.JoinHostPort(hostIP, "0"))
	if err != nil {
		t.Fatalf("finding a free port: %v", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func freeUDPPort(t *testing.T) int {
	t.Helper()
	c, err := net.ListenPacket("udp", net.JoinHostPort(hostIP, "0"))
	if err != nil {
		t.Fatalf("finding a free UDP port: %v", err)
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

func (s *server) waitPort(port int, deadline time.Time) error {
	addr := net.JoinHostPort(hostIP, strconv.Itoa(port))
	for {
		select {
		case <-s.exited:
			return fmt.Errorf("server process exited before %s accepted connections: %v", addr, s.waitErr)
		default:
		}
		c, err := net.DialTimeout("tcp", addr, 500*time.Millisecond)
		if err == nil {
			// Free ports come from the ephemeral range: with nothing listening yet, a dial whose source port
			// happens to be the target port connects to itself (TCP simultaneous open), which proves nothing.
			self := c.LocalAddr().String() == c.RemoteAddr().String()
			c.Close()
			if !self {
				return nil
			}
			err = fmt.Errorf("dial of %s connected to itself", addr)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("server did not accept connections on %s within %v: %v", addr, startupTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// CertFile is <certdir>/<hostname>.crt, the server's certificate (chain).
func (s *server) CertFile() string { return filepath.Join(s.CertDir, s.HostName+".crt") }

// loadCert reads the server's certificate file (for 127.0.0.1 the server
// creates it itself in manual mode) and computes the sha256-raw pin of its leaf.
func (s *server) loadCert(deadline time.Time) error {
	path := s.CertFile()
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			block, _ := pem.Decode(b)
			if block != nil && block.Type == "CERTIFICATE" {
				leaf, err := x509.ParseCertificate(block.Bytes)
				if err != nil {
					return fmt.Errorf("parsing %s: %v", path, err)
				}
				sum := sha256.Sum256(block.Bytes)
				s.Leaf = leaf
				s.CertPin = hex.EncodeToString(sum[:])
				return nil
			}
			// Possibly still being written; retry until the deadline.
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("no PEM CERTIFICATE in %s within %v (last error: %v)", path, startupTimeout, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// stop terminates the server's process group: SIGTERM, then SIGKILL,
// with bounded waits, and logs its output if the test failed.
func (s *server) stop(t *testing.T) {
	if !stopGroup(s.cmd, s.exited, shutdownTimeout) {
		t.Errorf("server process %d did not exit after SIGKILL", s.cmd.Process.Pid)
	}
	if (t.Failed() && !s.outputShown) || os.Getenv(envShowLog) != "" {
		t.Logf("--- %s output ---\n%s", s.Kind, s.Log())
	}
}

// stopGroup sends SIGTERM to cmd's process group, then SIGKILL if it has not
// exited within wait, and finally SIGKILL again for any leftover member of the
// group (e.g. a child of the JVM). It reports whether the process exited.
func stopGroup(cmd *exec.Cmd, exited <-chan struct{}, wait time.Duration) bool {
	defer signalGroup(cmd, true)
	select {
	case <-exited:
		return true
	default:
	}
	signalGroup(cmd, false)
	select {
	case <-exited:
		return true
	case <-time.After(wait):
	}
	signalGroup(cmd, true)
	select {
	case <-exited:
		return true
	case <-time.After(wait):
		return false
	}
}

// writeCert writes a self-signed certificate for dnsName (DNS SAN dnsName,
// IP SAN 127.0.0.1; ECDSA P-256, serverAuth, not a CA, valid 30 days) to
// <dir>/<dnsName>.crt and .key in the same PEM forms derper uses for its
// own self-signed certificates ("CERTIFICATE", "EC PRIVATE KEY").
func writeCert(dir, dnsName string) error {
	priv, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: dnsName},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(30 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		DNSNames:              []string{dnsName},
		IPAddresses:           []net.IP{net.ParseIP(hostIP)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &priv.PublicKey, priv)
	if err != nil {
		return err
	}
	keyDER, err := x509.MarshalECPrivateKey(priv)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, dnsName+".crt"), pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, dnsName+".key"), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
}

// ---------------------------------------------------------------------------
// TLS configuration exactly as a Tailscale client uses for a pinned DERP node.

// tlsConfig returns the client TLS config that derphttp would use for s.Node
// (tlsdial.Config + the sha256-raw pin), optionally capped at maxVersion.
func (s *server) tlsConfig(maxVersion uint16) *tls.Config {
	conf := tlsdial.Config(nil, &tls.Config{MaxVersion: maxVersion})
	conf.ServerName = s.HostName
	tlsdial.SetConfigExpectedCertHash(conf, s.CertPin)
	return conf
}

// dialTLS opens a raw TCP+TLS connection to the server, verified with the pin.
// The connection's deadline is the context's deadline.
func (s *server) dialTLS(ctx context.Context, t *testing.T, maxVersion uint16) *tls.Conn {
	t.Helper()
	var d net.Dialer
	nc, err := d.DialContext(ctx, "tcp", s.Addr())
	if err != nil {
		t.Fatalf("dial %s: %v", s.Addr(), err)
	}
	if dl, ok := ctx.Deadline(); ok {
		nc.SetDeadline(dl)
	}
	tc := tls.Client(nc, s.tlsConfig(maxVersion))
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		t.Fatalf("TLS handshake with %s: %v", s.Addr(), err)
	}
	t.Cleanup(func() { tc.Close() })
	return tc
}

// httpsClient is an HTTP/1.1 client for the TLS port with the pinned
// verification; it does not follow redirects.
func (s *server) httpsClient(t *testing.T) *http.Client {
	tr := &http.Transport{
		TLSClientConfig:   s.tlsConfig(0),
		DisableKeepAlives: true,
		Proxy:             nil,
	}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		Timeout:       10 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// metaCertKey returns the DERP server key advertised in a TLS "meta
// certificate" (CN derpkey<hex>) among certs, and the protocol version from
// its serial number.
func metaCertKey(certs []*x509.Certificate) (key.NodePublic, int, bool) {
	for _, c := range certs {
		if h, ok := strings.CutPrefix(c.Subject.CommonName, derpconst.MetaCertCommonNamePrefix); ok {
			var k key.NodePublic
			if err := k.UnmarshalText([]byte("nodekey:" + h)); err != nil {
				continue
			}
			if c.SerialNumber == nil || c.SerialNumber.BitLen() > 8 {
				continue
			}
			return k, int(c.SerialNumber.Int64()), true
		}
	}
	return key.NodePublic{}, 0, false
}

// ---------------------------------------------------------------------------
// DERP clients.

// peer is a derphttp client with a background receive loop.
type peer struct {
	name string
	priv key.NodePrivate
	pub  key.NodePublic
	c    *derphttp.Client
	msgs chan derp.ReceivedMessage // copies; closed when the loop ends
	err  error                     // receive-loop error; read after msgs is closed
}

type peerOptions struct {
	tlsMaxVersion uint16 // 0 = library default (TLS 1.3)
	preferred     bool   // send NotePreferred(true) right after ClientInfo, as tailscaled does for its home region
	canAckPings   bool
	rootCAs       *x509.CertPool // nil = the system's roots or the node's CertName pin
	// priv: the client's key; zero for a fresh one.
	priv key.NodePrivate
	// websocket: connect with Tailscale's WebSocket DERP client (derphttp built with ts_debug_websockets and
	// TS_DEBUG_DERP_WS_CLIENT set) instead of raw DERP over TCP. The environment variable stays set until the test
	// ends, so connect raw peers first.
	websocket bool
}

// newPeer connects a fresh-key client to s like tailscaled would (derp map
// region with the pinned node) and requires ServerInfo as its first message.
func newPeer(ctx context.Context, t *testing.T, s *server, name string, o peerOptions) *peer {
	t.Helper()
	p := &peer{name: name, priv: o.priv, msgs: make(chan derp.ReceivedMessage, 256)}
	if p.priv.IsZero() {
		p.priv = key.NewNode()
	}
	p.pub = p.priv.Public()
	region := s.Region
	logf := safeLogf(t, name+": ")
	var dialedWebSocket atomic.Bool
	if o.websocket {
		useWebSocketClient(t, s)
		inner := logf
		logf = func(format string, args ...any) {
			if strings.Contains(format, "connecting websocket") {
				dialedWebSocket.Store(true)
			}
			inner(format, args...)
		}
	}
	p.c = derphttp.NewRegionClient(p.priv, logf, netmon.NewStatic(), func() *tailcfg.DERPRegion { return region })
	if o.tlsMaxVersion != 0 || o.rootCAs != nil {
		p.c.TLSConfig = &tls.Config{MaxVersion: o.tlsMaxVersion, RootCAs: o.rootCAs}
	}
	if o.preferred {
		p.c.NotePreferred(true)
	}
	p.c.SetCanAckPings(o.canAckPings)
	cctx, cancel := context.WithTimeout(ctx, connectTimeout)
	defer cancel()
	if err := p.c.Connect(cctx); err != nil {
		p.c.Close()
		t.Fatalf("%s: connect: %v", name, err)
	}
	if o.websocket && !dialedWebSocket.Load() {
		p.c.Close()
		t.Fatalf("%s: derphttp connected without dialling a WebSocket", name)
	}
	t.Cleanup(func() { p.c.Close() })
	go p.recvLoop()
	m := p.next(ctx, t)
	if _, ok := m.(derp.ServerInfoMessage); !ok {
		t.Fatalf("%s: first message after connect is %T, want derp.ServerInfoMessage", name, m)
	}
	return p
}

// useWebSocketClient makes derphttp dial WebSockets for the rest of the test.
// Its WebSocket dialer uses http.DefaultTransport, so that transport gets the
// server's pinned TLS configuration until the test ends.
func useWebSocketClient(t *testing.T, s *server) {
	t.Helper()
	if !websocketClientBuilt {
		t.Fatalf("derphttp was built without its WebSocket client: run the suite with `go test -tags ts_debug_websockets` " +
			"(./jderper interop and ./jderper test do)")
	}
	t.Setenv("TS_DEBUG_DERP_WS_CLIENT", "true")
	tr := http.DefaultTransport.(*http.Transport)
	saved := tr.TLSClientConfig
	tr.TLSClientConfig = s.tlsConfig(0)
	t.Cleanup(func() {
		tr.CloseIdleConnections()
		tr.TLSClientConfig = saved
	})
}

// recvLoop receives until the first error. It never calls Recv again after an
// error, because derphttp would then silently reconnect.
func (p *peer) recvLoop() {
	defer close(p.msgs)
	for {
		m, err := p.c.Recv()
		if err != nil {
			p.err = err
			return
		}
		if rp, ok := m.(derp.ReceivedPacket); ok {
			rp.Data = bytes.Clone(rp.Data)
			if rp.Data == nil {
				rp.Data = []byte{}
			}
			m = rp
		}
		p.msgs <- m
	}
}

// next returns the next message other than KeepAlive, failing the test after recvTimeout.
func (p *peer) next(ctx context.Context, t *testing.T) derp.ReceivedMessage {
	t.Helper()
	m, err := p.nextErr(ctx, recvTimeout)
	if err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	return m
}

func (p *peer) nextErr(ctx context.Context, timeout time.Duration) (derp.ReceivedMessage, error) {
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		select {
		case m, ok := <-p.msgs:
			if !ok {
				return nil, fmt.Errorf("connection ended while waiting for a message: %v", p.err)
			}
			if _, ka := m.(derp.KeepAliveMessage); ka {
				continue
			}
			return m, nil
		case <-timer.C:
			return nil, fmt.Errorf("no message within %v", timeout)
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for a message: %w", ctx.Err())
		}
	}
}

// expectPacket requires the next message to be a packet from src with exactly want.
func (p *peer) expectPacket(ctx context.Context, t *testing.T, src *peer, want []byte) {
	t.Helper()
	m := p.next(ctx, t)
	rp, ok := m.(derp.ReceivedPacket)
	if !ok {
		t.Fatalf("%s: got %s, want a %d-byte packet from %s", p.name, describe(m), len(want), src.name)
	}
	if rp.Source != src.pub {
		t.Fatalf("%s: packet source %v, want %s's key %v", p.name, rp.Source, src.name, src.pub)
	}
	if !bytes.Equal(rp.Data, want) {
		t.Fatalf("%s: payload mismatch from %s: got %d bytes (%s), want %d bytes (%s)",
			p.name, src.name, len(rp.Data), abbrev(rp.Data), len(want), abbrev(want))
	}
}

func (p *peer) send(t *testing.T, dst key.NodePublic, pkt []byte) {
	t.Helper()
	if err := p.c.Send(dst, pkt); err != nil {
		t.Fatalf("%s: send %d bytes: %v", p.name, len(pkt), err)
	}
}

// describe renders a received message for failure messages.
func describe(m derp.ReceivedMessage) string {
	switch v := m.(type) {
	case derp.ReceivedPacket:
		return fmt.Sprintf("ReceivedPacket{from %v, %d bytes}", v.Source.ShortString(), len(v.Data))
	case derp.PeerGoneMessage:
		return fmt.Sprintf("PeerGoneMessage{%v, reason %d}", v.Peer.ShortString(), v.Reason)
	case derp.PongMessage:
		return fmt.Sprintf("PongMessage{%x}", v[:])
	case derp.PingMessage:
		return fmt.Sprintf("PingMessage{%x}", v[:])
	default:
		return fmt.Sprintf("%T %+v", m, m)
	}
}

func abbrev(b []byte) string {
	if len(b) <= 16 {
		return hex.EncodeToString(b)
	}
	return hex.EncodeToString(b[:16]) + "…"
}

func randBytes(t *testing.T, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// ---------------------------------------------------------------------------
// Go tools built from the pinned tailscale.com module.

var goToolMu sync.Mutex

// goToolBinary builds (once, then reuses) a command of the pinned tailscale.com
// module into $JDERPER_GO_BIN_CACHE (default <user cache dir>/jderper-go-bin),
// under tailscale-<version>/<name>.
// goToolCacheDir is where built Go tools of one version are kept:
// $JDERPER_GO_BIN_CACHE/<version>, by default under the user cache dir.
func goToolCacheDir(t *testing.T, version string) string {
	t.Helper()
	base := os.Getenv(envGoBinCache)
	if base == "" {
		ucd, err := os.UserCacheDir()
		if err != nil {
			t.Fatalf("no %s and no user cache dir: %v", envGoBinCache, err)
		}
		base = filepath.Join(ucd, "jderper-go-bin")
	}
	return filepath.Join(base, version)
}

// jderperCommand is `java -jar $JDERPER_JAR <subcommand> args...`: jderper's
// own commands need its jar whichever server is under test.
func jderperCommand(ctx context.Context, t *testing.T, subcommand string, args ...string) *exec.Cmd {
	t.Helper()
	jar := os.Getenv(envJar)
	if jar == "" {
		t.Fatalf("%s is not set: `jderper %s` needs jderper's jar (./jderper test and ./jderper interop set it)",
			envJar, subcommand)
	}
	java := os.Getenv(envJava)
	if java == "" {
		java = "java"
	}
	return exec.CommandContext(ctx, java, append([]string{"--enable-native-access=ALL-UNNAMED",
		"--sun-misc-unsafe-memory-access=allow", "-jar", jar, subcommand}, args...)...)
}

func goToolBinary(t *testing.T, pkg, name string) string {
	t.Helper()
	goToolMu.Lock()
	defer goToolMu.Unlock()
	dir := goToolCacheDir(t, "tailscale-"+tailscaleVersion())
	bin := filepath.Join(dir, name)
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() && fi.Mode()&0o111 != 0 {
		return bin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("building %s needs the go command: %v", pkg, err)
	}
	tmp := fmt.Sprintf("%s.tmp%d", bin, os.Getpid())
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	// Built inside this module, so go.mod/go.sum pin the version.
	cmd := exec.CommandContext(ctx, goBin, "build", "-o", tmp, pkg)
	cmd.WaitDelay = 5 * time.Second
	t.Logf("building %s (%s) into %s", pkg, tailscaleVersion(), dir)
	if out, err := cmd.CombinedOutput(); err != nil {
		os.Remove(tmp)
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		t.Fatal(err)
	}
	return bin
}

// readHTTPHead reads an HTTP response head (through the blank line) byte by
// byte-exact from br, with a size cap.
func readHTTPHead(br *bufio.Reader) (string, error) {
	var sb strings.Builder
	for sb.Len() < 16<<10 {
		line, err := br.ReadString('\n')
		sb.WriteString(line)
		if err != nil {
			return sb.String(), err
		}
		if line == "\r\n" || line == "\n" {
			return sb.String(), nil
		}
	}
	return sb.String(), errors.New("HTTP response head too long")
}
