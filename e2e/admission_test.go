package e2e

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"tailscale.com/derp"
	"tailscale.com/types/key"
)

// TestHeadscaleAdmission: the IP-only relay of the README, run with
// -verify-client-url pointing at Headscale's /verify (fail-closed). The
// tailnet's two nodes are admitted and talk through the relay; a DERP client
// with a key Headscale does not know is closed before ServerInfo, and the
// relay logs why with only the key's first bytes.
func TestHeadscaleAdmission(t *testing.T) {
	s := startDeployment(t, deployment{runStep: stepAdmissionRun, derpMapStep: stepIPDerpMap})
	stranger := key.NewNode()
	if err := s.derpHandshake(stranger); err == nil {
		t.Fatalf("a key Headscale does not know got ServerInfo")
	} else {
		t.Logf("stranger refused: %v", err)
	}
	s.relay.waitForLog(t, regexp.MustCompile(`closing \[[0-9a-f]{8}\] from /[0-9.]+:\d+: `+
		`not admitted: url_refused`), commandTimeout)
	if full := stranger.Public().UntypedHexString(); strings.Contains(s.relay.log(), full) {
		t.Fatalf("the relay logged a whole node key (%s)", full)
	}
	s.checkRelayed()
}

// derpHandshake speaks DERP to the relay from inside the namespace as priv:
// TLS (the test checks no certificate: it only wants to be refused or not),
// the upgrade, ClientInfo, and the first frame back, which must be ServerInfo.
func (s *scenario) derpHandshake(priv key.NodePrivate) error {
	conn := s.ns.dial(s.t, net.JoinHostPort(publicIP, "443"), 10*time.Second)
	tc := tls.Client(conn, &tls.Config{InsecureSkipVerify: true, ServerName: publicIP})
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(commandTimeout))
	brw := bufio.NewReadWriter(bufio.NewReader(tc), bufio.NewWriter(tc))
	fmt.Fprintf(brw, "GET /derp HTTP/1.1\r\nHost: %s\r\nConnection: Upgrade\r\nUpgrade: DERP\r\n\r\n", publicIP)
	if err := brw.Flush(); err != nil {
		s.t.Fatalf("upgrade request: %v", err)
	}
	resp, err := http.ReadResponse(brw.Reader, nil)
	if err != nil || resp.StatusCode != http.StatusSwitchingProtocols {
		s.t.Fatalf("upgrade: %v %v", resp, err)
	}
	c, err := derp.NewClient(priv, tc, brw, s.t.Logf)
	if err != nil {
		return err
	}
	m, err := c.Recv()
	if err != nil {
		return err
	}
	if _, ok := m.(derp.ServerInfoMessage); !ok {
		return fmt.Errorf("first frame %T, want ServerInfo", m)
	}
	return nil
}
