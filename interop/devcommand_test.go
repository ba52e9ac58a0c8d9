package interop

// The README's run command, end to end: `./jderper dev` from the repository
// root must build if needed, start the relay on loopback and print a banner
// whose DERP map is all a Tailscale client needs to use it.

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"tailscale.com/derp"
	"tailscale.com/tailcfg"
	"tailscale.com/types/key"
)

const (
	devScriptName = "jderper"               // at the repository root, the parent of this directory
	envDevPort    = "JDERPER_DEV_PORT"      // the port `./jderper dev` listens on
	envDevSTUN    = "JDERPER_DEV_STUN_PORT" // its STUN (UDP) port
	devStateDir   = ".jderper/dev"          // under the repository root; shared with a developer's own runs
	devStopWait   = 10 * time.Second        // per signal when stopping the dev relay
	devBuildGrace = 3 * time.Minute         // until the whole banner is out; the script may build the jar first
	devAttempts   = 3                       // starts tried when the chosen port was taken meanwhile
	devMapPrefix  = "DERP map (one region): "
	devNodePrefix = "DERP map node entry: "
	devKeyPrefix  = "server public key: "
	devStopPrefix = "stop with Ctrl-C or: kill "
)

// devBannerURL matches the first banner line; group 1 is the version, group 2 the URL.
var devBannerURL = regexp.MustCompile(`^jderper (\S+) relaying at (\S+)$`)

// ansiEscape matches terminal control sequences. Maven (when the script
// builds first) can leave one on stdout without a newline, which then
// prefixes the banner's first line.
var ansiEscape = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// devBanner is what `./jderper dev` printed on stdout.
type devBanner struct {
	Version   string
	URL       string
	ServerKey key.NodePublic
	Node      *tailcfg.DERPNode // from the "DERP map node entry:" line
	Map       *tailcfg.DERPMap  // from the "DERP map (one region):" line
	PID       int               // from the "stop with" line
}

// devProcess is one run of `./jderper dev` in its own process group.
type devProcess struct {
	cmd      *exec.Cmd
	port     int
	stunPort int
	out      *syncBuffer // stdout and stderr, interleaved, for failure logs
	stdout   *lineCollector
	exited   chan struct{}
	waitErr  error
}

// lineCollector is the process's stdout: complete lines, kept in order.
// Writes never block on the test.
type lineCollector struct {
	mu      sync.Mutex
	tee     *syncBuffer
	partial []byte
	lines   []string
	notify  chan struct{} // capacity 1: "lines grew"
}

func (c *lineCollector) Write(p []byte) (int, error) {
	c.tee.Write(p)
	c.mu.Lock()
	c.partial = append(c.partial, p...)
	added := false
	for {
		i := bytes.IndexByte(c.partial, '\n')
		if i < 0 {
			break
		}
		line := strings.TrimSuffix(string(c.partial[:i]), "\r")
		c.lines = append(c.lines, ansiEscape.ReplaceAllString(line, ""))
		c.partial = c.partial[i+1:]
		added = true
	}
	c.mu.Unlock()
	if added {
		select {
		case c.notify <- struct{}{}:
		default:
		}
	}
	return len(p), nil
}

// line returns stdout line i (0-based) once it is complete.
func (c *lineCollector) line(i int) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if i < len(c.lines) {
		return c.lines[i], true
	}
	return "", false
}

// errDevPortTaken means the relay could not bind the chosen port: someone
// else took it between freePort and the bind. The caller retries.
var errDevPortTaken = fmt.Errorf("the chosen port was taken before the relay bound it")

// TestDevCommandBanner runs the repository's `./jderper dev` exactly as the
// README tells a developer to, and uses only the DERP map it prints to relay
// packets between two Tailscale clients.
func TestDevCommandBanner(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	script := filepath.Join(root, devScriptName)
	fi, err := os.Stat(script)
	if err != nil {
		t.Fatalf("the repository's run script is missing (the README's `./%s dev` cannot work): %v", devScriptName, err)
	}
	if !fi.Mode().IsRegular() || fi.Mode()&0o111 == 0 {
		t.Fatalf("%s is not an executable file (mode %v)", script, fi.Mode())
	}

	ctx := testContext(t, devBuildGrace+2*time.Minute)
	var (
		p      *devProcess
		banner *devBanner
	)
	for attempt := 1; ; attempt++ {
		p = startDev(t, root, script)
		banner, err = p.readBanner(time.Now().Add(devBuildGrace))
		if err == nil {
			break
		}
		if err == errDevPortTaken && attempt < devAttempts {
			t.Logf("attempt %d: port %d was taken meanwhile, retrying on another port", attempt, p.port)
			p.stop(t)
			continue
		}
		t.Fatalf("`./%s dev` on port %d: %v\n--- output ---\n%s", devScriptName, p.port, err, p.out.String())
	}
	t.Logf("banner: jderper %s at %s, server key %v, pid %d, node %s", banner.Version, banner.URL,
		banner.ServerKey.ShortString(), banner.PID, banner.Node.CertName)

	t.Run("banner", func(t *testing.T) {
		if want := fmt.Sprintf("https://%s/derp", net.JoinHostPort(hostIP, strconv.Itoa(p.port))); banner.URL != want {
			t.Errorf("relay URL %q, want %q (%s=%d)", banner.URL, want, envDevPort, p.port)
		}
		// The script execs the JVM, so the pid to kill is the process the
		// test started: `kill <pid>` really stops the relay.
		if banner.PID != p.cmd.Process.Pid {
			t.Errorf("banner says kill %d, but the relay's pid is %d", banner.PID, p.cmd.Process.Pid)
		}
		n := banner.Node
		if n.HostName != hostIP || n.IPv4 != hostIP || n.DERPPort != p.port || n.STUNPort != p.stunPort ||
			n.RegionID != regionID {
			t.Errorf("node entry %+v: want HostName and IPv4 %s, DERPPort %d, STUNPort %d, RegionID %d",
				*n, hostIP, p.port, p.stunPort, regionID)
		}
		if !strings.HasPrefix(n.CertName, "sha256-raw:") {
			t.Errorf("node CertName %q: want a sha256-raw: pin of the self-signed certificate", n.CertName)
		}
		if n.InsecureForTests {
			t.Errorf("node entry sets InsecureForTests; the pin alone must be enough")
		}
	})

	// Everything below uses only the printed map. newPeer needs just the
	// region; no pin is computed here and nothing is read from the cert dir.
	dev := &server{
		Kind:     "jderper dev",
		HostName: banner.Node.HostName,
		Port:     banner.Node.DERPPort,
		STUNPort: banner.Node.STUNPort,
		Node:     banner.Map.Regions[regionID].Nodes[0],
		Region:   banner.Map.Regions[regionID],
		DERPMap:  banner.Map,
	}
	t.Run("stun", func(t *testing.T) {
		if _, mapped, local := stunRoundTrip(t, dev); mapped != local {
			t.Errorf("STUN mapped address %v, want %v", mapped, local)
		}
	})
	t.Run("relay", func(t *testing.T) {
		a := newPeer(ctx, t, dev, "A", peerOptions{preferred: true, canAckPings: true})
		b := newPeer(ctx, t, dev, "B", peerOptions{preferred: true, canAckPings: true})
		for _, c := range []*peer{a, b} {
			if got := c.c.ServerPublicKey(); got != banner.ServerKey {
				t.Errorf("%s: server key %v, banner printed %v", c.name, got, banner.ServerKey)
			}
		}
		for _, n := range []int{0, 1, 100, 1400, 16384, derp.MaxPacketSize} {
			pkt := randBytes(t, n)
			a.send(t, b.pub, pkt)
			b.expectPacket(ctx, t, a, pkt)
			reply := randBytes(t, n)
			b.send(t, a.pub, reply)
			a.expectPacket(ctx, t, b, reply)
		}
	})

	t.Run("stop", func(t *testing.T) {
		signalGroup(p.cmd, false)
		select {
		case <-p.exited:
			t.Logf("relay exited on SIGTERM: %v", p.waitErr)
		case <-time.After(devStopWait):
			t.Errorf("relay (pid %d) still running %v after SIGTERM to its process group; sending SIGKILL",
				p.cmd.Process.Pid, devStopWait)
			signalGroup(p.cmd, true)
			select {
			case <-p.exited:
			case <-time.After(devStopWait):
				t.Fatalf("relay (pid %d) did not exit after SIGKILL", p.cmd.Process.Pid)
			}
		}
	})
}

// startDev runs `<root>/jderper dev` with a free loopback port in its own
// process group. Its process group is stopped when the test ends.
func startDev(t *testing.T, root, script string) *devProcess {
	t.Helper()
	out := new(syncBuffer)
	p := &devProcess{
		port:     freePort(t),
		stunPort: freeUDPPort(t),
		out:      out,
		stdout:   &lineCollector{tee: out, notify: make(chan struct{}, 1)},
		exited:   make(chan struct{}),
	}
	cmd := exec.Command(script, "dev")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), envDevPort+"="+strconv.Itoa(p.port), envDevSTUN+"="+strconv.Itoa(p.stunPort))
	cmd.Stdout = p.stdout
	cmd.Stderr = out
	cmd.SysProcAttr = newProcessGroupAttr()
	cmd.WaitDelay = devStopWait
	p.cmd = cmd
	t.Logf("starting %s=%d ./%s dev (state in %s under the repository root)", envDevPort, p.port, devScriptName, devStateDir)
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s dev: %v", script, err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() || os.Getenv(envShowLog) != "" {
			t.Logf("--- ./%s dev output (port %d) ---\n%s", devScriptName, p.port, p.out.String())
		}
	})
	return p
}

// stop ends the process group (SIGTERM, then SIGKILL, bounded) if it still
// runs, then kills any leftover member of the group.
func (p *devProcess) stop(t *testing.T) {
	if !stopGroup(p.cmd, p.exited, devStopWait) {
		t.Errorf("./%s dev (pid %d) did not exit after SIGKILL", devScriptName, p.cmd.Process.Pid)
	}
}

// readBanner reads stdout line by line until the whole banner is out.
// Lines before the first banner line (a build's output) are ignored; after
// it, the banner's lines must follow in order.
func (p *devProcess) readBanner(deadline time.Time) (*devBanner, error) {
	timer := time.NewTimer(time.Until(deadline))
	defer timer.Stop()
	poll := time.NewTicker(200 * time.Millisecond)
	defer poll.Stop()
	var (
		b     devBanner
		stage int // 0: waiting for the URL line; 1..4: the next line after it
	)
	for i := 0; ; {
		line, ok := p.stdout.line(i)
		if !ok {
			if strings.Contains(strings.ToLower(p.out.String()), "address already in use") {
				return nil, errDevPortTaken
			}
			select {
			case <-p.stdout.notify:
			case <-poll.C:
			case <-p.exited:
				if _, ok := p.stdout.line(i); ok { // output that raced with the exit
					continue
				}
				if strings.Contains(strings.ToLower(p.out.String()), "address already in use") {
					return nil, errDevPortTaken
				}
				return nil, fmt.Errorf("exited (%v) before printing the whole banner (got %d of 5 lines)", p.waitErr, stage)
			case <-timer.C:
				return nil, fmt.Errorf("the whole banner was not printed within %v (got %d of 5 lines)", devBuildGrace, stage)
			}
			continue
		}
		i++
		switch stage {
		case 0:
			m := devBannerURL.FindStringSubmatch(line)
			if m == nil {
				continue // not the banner yet
			}
			b.Version, b.URL = m[1], m[2]
		case 1:
			rest, ok := strings.CutPrefix(line, devKeyPrefix)
			if !ok {
				return nil, fmt.Errorf("banner line 2 is %q, want %q<key>", line, devKeyPrefix)
			}
			if err := b.ServerKey.UnmarshalText([]byte(rest)); err != nil {
				return nil, fmt.Errorf("server public key %q: %v", rest, err)
			}
		case 2:
			rest, ok := strings.CutPrefix(line, devNodePrefix)
			if !ok {
				return nil, fmt.Errorf("banner line 3 is %q, want %q<json>", line, devNodePrefix)
			}
			b.Node = new(tailcfg.DERPNode)
			if err := decodeStrict(rest, b.Node); err != nil {
				return nil, fmt.Errorf("node entry %s: not a tailcfg.DERPNode: %v", rest, err)
			}
		case 3:
			rest, ok := strings.CutPrefix(line, devMapPrefix)
			if !ok {
				return nil, fmt.Errorf("banner line 4 is %q, want %q<json>", line, devMapPrefix)
			}
			b.Map = new(tailcfg.DERPMap)
			if err := decodeStrict(rest, b.Map); err != nil {
				return nil, fmt.Errorf("DERP map %s: not a tailcfg.DERPMap: %v", rest, err)
			}
			if err := checkOneRegionMap(b.Map, b.Node); err != nil {
				return nil, fmt.Errorf("DERP map %s: %v", rest, err)
			}
		case 4:
			rest, ok := strings.CutPrefix(line, devStopPrefix)
			if !ok {
				return nil, fmt.Errorf("banner line 5 is %q, want %q<pid>", line, devStopPrefix)
			}
			pid, err := strconv.Atoi(rest)
			if err != nil || pid <= 0 {
				return nil, fmt.Errorf("stop line %q names no pid", line)
			}
			b.PID = pid
			return &b, nil
		}
		stage++
	}
}

// decodeStrict unmarshals s into v, refusing fields v does not have (a
// misspelt field would otherwise be dropped silently by a client) and
// trailing data.
func decodeStrict(s string, v any) error {
	dec := json.NewDecoder(strings.NewReader(s))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return fmt.Errorf("trailing data after the JSON value")
	}
	return nil
}

// checkOneRegionMap requires m to hold exactly region 900 with exactly the
// node printed as the node entry.
func checkOneRegionMap(m *tailcfg.DERPMap, node *tailcfg.DERPNode) error {
	if len(m.Regions) != 1 || m.Regions[regionID] == nil {
		return fmt.Errorf("want exactly region %d, got %d region(s)", regionID, len(m.Regions))
	}
	r := m.Regions[regionID]
	if r.RegionID != regionID || r.RegionCode == "" {
		return fmt.Errorf("region %d has RegionID %d, RegionCode %q", regionID, r.RegionID, r.RegionCode)
	}
	if len(r.Nodes) != 1 || r.Nodes[0] == nil {
		return fmt.Errorf("region %d has %d nodes, want 1", regionID, len(r.Nodes))
	}
	if !reflect.DeepEqual(r.Nodes[0], node) {
		return fmt.Errorf("the map's node %+v differs from the node entry %+v", *r.Nodes[0], *node)
	}
	return nil
}
