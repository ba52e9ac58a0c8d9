package interop

// Meshing (spec §4.7): jderper and Tailscale's Go derper v1.102.3 as nodes of
// one region, each dialling the others as derper's cmd/derper/mesh.go does,
// with certificates from a test CA that both trust through SSL_CERT_FILE.
// Tailscale's own derphttp clients on different nodes exchange packets.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"tailscale.com/derp"
	"tailscale.com/tailcfg"
)

const (
	kindJderper = "jderper"
	// meshSettleTimeout bounds how long a node may take to learn another
	// node's clients: dialling, the watch stream's first flood, and after a
	// restart derper's fixed 5 s redial interval.
	meshSettleTimeout = 30 * time.Second
	// meshProbeInterval is how long one probe packet is given to arrive before
	// the next is sent while a mesh settles.
	meshProbeInterval = 250 * time.Millisecond
)

// meshRegion is what the nodes of one test region share: a CA, one
// certificate for 127.0.0.1 signed by it, and the mesh key.
type meshRegion struct {
	dir      string
	caFile   string
	certDir  string
	meshKey  string
	roots    *x509.CertPool
	keyFiles map[int]string // node index -> -c file, so that a restarted node keeps its key
}

func newMeshRegion(t *testing.T) *meshRegion {
	t.Helper()
	dir := t.TempDir()
	r := &meshRegion{dir: dir, caFile: filepath.Join(dir, "ca.pem"), certDir: filepath.Join(dir, "certs"),
		keyFiles: map[int]string{}}
	if err := os.MkdirAll(r.certDir, 0o755); err != nil {
		t.Fatal(err)
	}
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "jderper mesh interop CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	leafKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	leafTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: hostIP},
		NotBefore:    now.Add(-time.Hour),
		NotAfter:     now.Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP(hostIP)},
	}
	leafDER, err := x509.CreateCertificate(rand.Reader, leafTmpl, ca, &leafKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	leafKeyDER, err := x509.MarshalECPrivateKey(leafKey)
	if err != nil {
		t.Fatal(err)
	}
	writePEM(t, r.caFile, "CERTIFICATE", caDER, 0o644)
	writePEM(t, filepath.Join(r.certDir, hostIP+".crt"), "CERTIFICATE", leafDER, 0o644)
	writePEM(t, filepath.Join(r.certDir, hostIP+".key"), "EC PRIVATE KEY", leafKeyDER, 0o600)
	r.roots = x509.NewCertPool()
	r.roots.AddCert(ca)
	r.meshKey = hex.EncodeToString(randBytes(t, 32))
	return r
}

func writePEM(t *testing.T, path, kind string, der []byte, mode os.FileMode) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), mode); err != nil {
		t.Fatal(err)
	}
}

// meshNode is one node of the region, on a port fixed before any node starts
// so that every node can be given the whole -mesh-with list.
type meshNode struct {
	*server
	index int
}

// startMeshNode starts node index of kind ("jderper" or "go-derper") on port,
// meshed with peers (host:port entries, itself included as derper allows).
// meshKeyFile "" starts it without a mesh key.
func (r *meshRegion) startMeshNode(t *testing.T, kind string, index, port int, peers []string, meshKeyFile string) *meshNode {
	t.Helper()
	keyFile, ok := r.keyFiles[index]
	if !ok {
		keyFile = filepath.Join(r.dir, fmt.Sprintf("node%d.key", index))
		r.keyFiles[index] = keyFile
	}
	args := []string{
		"-a", net.JoinHostPort(hostIP, strconv.Itoa(port)),
		"-certmode", "manual",
		"-hostname", hostIP,
		"-certdir", r.certDir,
		"-c", keyFile,
		"-http-port", "-1",
		"-stun=false",
		"-mesh-with", strings.Join(peers, ","),
	}
	if meshKeyFile != "" {
		args = append(args, "-mesh-psk-file", meshKeyFile)
	}
	s := &server{Kind: kind, HostName: hostIP, Port: port, CertDir: r.certDir, out: new(syncBuffer),
		exited: make(chan struct{})}
	s.cmd = meshNodeCommand(t, kind, args)
	s.cmd.Dir = r.dir
	s.cmd.Env = append(os.Environ(), "SSL_CERT_FILE="+r.caFile)
	s.cmd.Stdout, s.cmd.Stderr = s.out, s.out
	s.cmd.SysProcAttr = newProcessGroupAttr()
	t.Logf("starting mesh node %d (%s): %s", index, kind, strings.Join(s.cmd.Args, " "))
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", s.cmd.Path, err)
	}
	go func() {
		s.waitErr = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() { s.stop(t) })
	if err := s.waitPort(port, time.Now().Add(startupTimeout)); err != nil {
		s.outputShown = true
		t.Fatalf("mesh node %d: %v\n--- %s output ---\n%s", index, err, kind, s.Log())
	}
	s.Node = &tailcfg.DERPNode{Name: fmt.Sprintf("900%c", 'a'+index), RegionID: regionID, HostName: hostIP,
		IPv4: hostIP, STUNPort: -1, DERPPort: port}
	s.Region = &tailcfg.DERPRegion{RegionID: regionID, RegionCode: regionCode, RegionName: "jderper mesh interop",
		Nodes: []*tailcfg.DERPNode{s.Node}}
	return &meshNode{server: s, index: index}
}

func meshNodeCommand(t *testing.T, kind string, args []string) *exec.Cmd {
	t.Helper()
	if kind == serverGoDerper {
		return exec.Command(goToolBinary(t, "tailscale.com/cmd/derper", "derper"), args...)
	}
	jar := os.Getenv(envJar)
	if jar == "" {
		t.Fatalf("%s is not set: the mesh tests run jderper nodes beside Go derper ones (./jderper test and "+
			"./jderper interop set it)", envJar)
	}
	java := os.Getenv(envJava)
	if java == "" {
		java = "java"
	}
	return exec.Command(java, append([]string{"--enable-native-access=ALL-UNNAMED",
		"--sun-misc-unsafe-memory-access=allow", "-jar", jar}, args...)...)
}

// kill ends the node abruptly (SIGKILL to its process group), as a crash would.
func (n *meshNode) kill(t *testing.T) {
	t.Helper()
	signalGroup(n.cmd, true)
	select {
	case <-n.exited:
	case <-time.After(shutdownTimeout):
		t.Fatalf("mesh node %d (%s) did not exit after SIGKILL", n.index, n.Kind)
	}
}

func (r *meshRegion) writeMeshKey(t *testing.T) string {
	t.Helper()
	path := filepath.Join(r.dir, "mesh.key")
	if err := os.WriteFile(path, []byte(r.meshKey+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func meshPorts(t *testing.T, n int) ([]int, []string) {
	ports := make([]int, n)
	entries := make([]string, n)
	for i := range ports {
		ports[i] = freePort(t)
		entries[i] = net.JoinHostPort(hostIP, strconv.Itoa(ports[i]))
	}
	return ports, entries
}

// awaitMeshDelivery sends fresh probe packets from src to dst until one
// arrives, which happens once src's node has learned of dst from dst's node;
// packets sent before that are dropped as unknown_dest. It then checks the
// one that arrived.
func awaitMeshDelivery(ctx context.Context, t *testing.T, src, dst *peer) {
	t.Helper()
	deadline := time.Now().Add(meshSettleTimeout)
	for attempt := 1; ; attempt++ {
		want := []byte(fmt.Sprintf("mesh probe %d from %s to %s", attempt, src.name, dst.name))
		src.send(t, dst.pub, want)
		m, err := dst.nextErr(ctx, meshProbeInterval)
		if err == nil {
			rp, ok := m.(derp.ReceivedPacket)
			if !ok {
				t.Fatalf("%s: got %s while waiting for %s's packet", dst.name, describe(m), src.name)
			}
			if rp.Source != src.pub || !strings.HasPrefix(string(rp.Data), "mesh probe ") ||
				!strings.HasSuffix(string(rp.Data), " from "+src.name+" to "+dst.name) {
				t.Fatalf("%s: got a packet from %v (%q), want a probe from %s", dst.name, rp.Source.ShortString(),
					rp.Data, src.name)
			}
			t.Logf("%s -> %s delivered across the mesh after %d probe(s)", src.name, dst.name, attempt)
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s -> %s: no probe delivered within %v: %v", src.name, dst.name, meshSettleTimeout, err)
		}
	}
}

// TestMeshTwoNodes: a region of two nodes of the given kinds. Clients on each
// exchange packets both ways; when the first node is killed, the client on
// the second that heard from the first's client gets PeerGone, as derper's
// forwarder removal does; when the first node returns (same port, same key)
// the second node's mesh client dials it again and packets flow again.
func TestMeshTwoNodes(t *testing.T) {
	for _, kinds := range [][2]string{
		{serverGoDerper, kindJderper},
		{kindJderper, serverGoDerper},
		{kindJderper, kindJderper},
	} {
		t.Run(kinds[0]+"+"+kinds[1], func(t *testing.T) {
			ctx := testContext(t, 3*time.Minute)
			r := newMeshRegion(t)
			meshKey := r.writeMeshKey(t)
			ports, entries := meshPorts(t, 2)
			first := r.startMeshNode(t, kinds[0], 0, ports[0], entries, meshKey)
			second := r.startMeshNode(t, kinds[1], 1, ports[1], entries, meshKey)

			a := newPeer(ctx, t, first.server, "A@"+kinds[0], peerOptions{rootCAs: r.roots})
			b := newPeer(ctx, t, second.server, "B@"+kinds[1], peerOptions{rootCAs: r.roots})
			awaitMeshDelivery(ctx, t, a, b)
			awaitMeshDelivery(ctx, t, b, a)
			big := randBytes(t, 64<<10)
			a.send(t, b.pub, big)
			b.expectPacket(ctx, t, a, big)

			first.kill(t)
			expectPeerGone(ctx, t, b, a.pub, derp.PeerGoneReasonDisconnected)

			again := r.startMeshNode(t, kinds[0], 0, ports[0], entries, meshKey)
			c := newPeer(ctx, t, again.server, "C@"+kinds[0], peerOptions{rootCAs: r.roots})
			awaitMeshDelivery(ctx, t, b, c)
			awaitMeshDelivery(ctx, t, c, b)
			for _, n := range []*meshNode{again, second} {
				if n.Kind == kindJderper && !strings.Contains(n.Log(), "detected self-connect; ignoring host") {
					t.Errorf("jderper node %d never logged that it recognised itself in -mesh-with:\n%s", n.index,
						n.Log())
				}
			}
		})
	}
}

// TestMeshThreeNodes: jderper, jderper and Go derper in full mesh; a client
// on each reaches the clients on both others.
func TestMeshThreeNodes(t *testing.T) {
	ctx := testContext(t, 3*time.Minute)
	r := newMeshRegion(t)
	meshKey := r.writeMeshKey(t)
	ports, entries := meshPorts(t, 3)
	kinds := []string{kindJderper, kindJderper, serverGoDerper}
	var peers []*peer
	for i, kind := range kinds {
		n := r.startMeshNode(t, kind, i, ports[i], entries, meshKey)
		peers = append(peers, newPeer(ctx, t, n.server, fmt.Sprintf("P%d@%s", i, kind),
			peerOptions{rootCAs: r.roots}))
	}
	for _, src := range peers {
		for _, dst := range peers {
			if src != dst {
				awaitMeshDelivery(ctx, t, src, dst)
			}
		}
	}
}

// TestMeshWithoutKeyRefused: derper refuses -mesh-with without a mesh key;
// so does jderper, in derper's words.
func TestMeshWithoutKeyRefused(t *testing.T) {
	r := newMeshRegion(t)
	ports, entries := meshPorts(t, 1)
	cmd := meshNodeCommand(t, kindJderper, []string{"-a", entries[0], "-certmode", "manual", "-hostname", hostIP,
		"-certdir", r.certDir, "-c", filepath.Join(r.dir, "node.key"), "-http-port", "-1", "-stun=false",
		"-mesh-with", entries[0]})
	cmd.Dir = r.dir
	cmd.Env = append(os.Environ(), "HOME="+r.dir)
	out, err := runBounded(cmd, startupTimeout)
	if err == nil {
		t.Fatalf("jderper started on port %d with -mesh-with and no mesh key:\n%s", ports[0], out)
	}
	if !strings.Contains(out, "--mesh-with requires --mesh-psk-file") {
		t.Fatalf("jderper failed without derper's reason (%v):\n%s", err, out)
	}
}

// runBounded runs cmd to completion, killing it after limit.
func runBounded(cmd *exec.Cmd, limit time.Duration) (string, error) {
	buf := new(syncBuffer)
	cmd.Stdout, cmd.Stderr = buf, buf
	cmd.SysProcAttr = newProcessGroupAttr()
	if err := cmd.Start(); err != nil {
		return "", err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return buf.String(), err
	case <-time.After(limit):
		signalGroup(cmd, true)
		<-done
		return buf.String(), fmt.Errorf("still running after %v", limit)
	}
}
