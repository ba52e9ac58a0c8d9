package interop

// `jderper derpmap` (spec §7): the JSON it prints is a tailcfg.DERPMap, its
// YAML decodes into the same tailcfg.DERPMap the way Headscale reads
// derp.paths files (gopkg.in/yaml.v3 into the Go structs), both describe the
// running server exactly (pin included), and a Tailscale client given only
// the YAML-derived map relays packets and gets a STUN answer through it.

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
	"tailscale.com/tailcfg"
)

// runDerpMap runs derpmap and returns its stdout.
func runDerpMap(ctx context.Context, t *testing.T, args ...string) string {
	t.Helper()
	cmd := jderperCommand(ctx, t, "derpmap", args...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("jderper derpmap %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return string(out)
}

func TestDerpMap(t *testing.T) {
	s := startServer(t, serverOptions{stun: true, jderperArgs: []string{"-derp-map-json", "-region-id", "901",
		"-region-code", "lab", "-region-name", "Lab: loopback"}})
	ctx := testContext(t, 2*time.Minute)
	serverFlags := []string{"-a", s.Addr(), "-certmode", "manual", "-hostname", s.HostName, "-certdir", s.CertDir,
		"-stun-port", strconv.Itoa(s.STUNPort), "-region-id", "901", "-region-code", "lab", "-region-name", "Lab: loopback"}

	var fromJSON tailcfg.DERPMap
	jsonText := runDerpMap(ctx, t, append([]string{"-format", "json"}, serverFlags...)...)
	if err := decodeStrict(jsonText, &fromJSON); err != nil {
		t.Fatalf("-format json is not a tailcfg.DERPMap: %v\n%s", err, jsonText)
	}
	var fromYAML tailcfg.DERPMap
	yamlText := runDerpMap(ctx, t, append([]string{"-format", "yaml"}, serverFlags...)...)
	dec := yaml.NewDecoder(strings.NewReader(yamlText))
	dec.KnownFields(true)
	if err := dec.Decode(&fromYAML); err != nil {
		t.Fatalf("-format yaml does not decode as Headscale decodes derp.paths: %v\n%s", err, yamlText)
	}
	if !reflect.DeepEqual(fromJSON, fromYAML) {
		t.Fatalf("JSON and YAML maps differ:\nJSON %+v\nYAML %+v", fromJSON, fromYAML)
	}

	region := fromYAML.Regions[901]
	if len(fromYAML.Regions) != 1 || region == nil || len(region.Nodes) != 1 {
		t.Fatalf("want exactly region 901 with one node, got %+v", fromYAML)
	}
	if region.RegionCode != "lab" || region.RegionName != "Lab: loopback" {
		t.Errorf("region code %q name %q, want lab and \"Lab: loopback\"", region.RegionCode, region.RegionName)
	}
	node := region.Nodes[0]
	want := tailcfg.DERPNode{Name: "901a", RegionID: 901, HostName: s.HostName, CertName: "sha256-raw:" + s.CertPin,
		IPv4: hostIP, STUNPort: s.STUNPort, DERPPort: s.Port}
	if *node != want {
		t.Errorf("node %+v\nwant %+v (the running server's pin and ports)", *node, want)
	}

	// A client that knows only the printed map.
	printed := &server{Kind: s.Kind, HostName: node.HostName, Port: node.DERPPort, STUNPort: node.STUNPort,
		Node: node, Region: region, DERPMap: &fromYAML}
	a := newPeer(ctx, t, printed, "A", peerOptions{})
	b := newPeer(ctx, t, printed, "B", peerOptions{})
	pkt := randBytes(t, 1200)
	a.send(t, b.pub, pkt)
	b.expectPacket(ctx, t, a, pkt)
	if _, mapped, local := stunRoundTrip(t, printed); mapped != local {
		t.Errorf("STUN through the printed map: mapped %v, want %v", mapped, local)
	}

	if s.Kind == serverGoDerper {
		t.Logf("-derp-map-json is jderper's own; %s does not serve /derp-map.json", s.Kind)
		return
	}
	resp, err := s.httpsClient(t).Get("https://" + s.Addr() + "/derp-map.json")
	if err != nil {
		t.Fatalf("GET /derp-map.json: %v", err)
	}
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("GET /derp-map.json: %d %q: %s", resp.StatusCode, resp.Header.Get("Content-Type"), body)
	}
	var served tailcfg.DERPMap
	if err := json.Unmarshal(body, &served); err != nil {
		t.Fatalf("/derp-map.json is not a DERP map: %v\n%s", err, body)
	}
	if !reflect.DeepEqual(served, fromJSON) {
		t.Errorf("/derp-map.json differs from `jderper derpmap`:\nserved  %+v\nprinted %+v", served, fromJSON)
	}
}

// TestDerpMapRefusals: derpmap says why when no DERP map can point at the server.
func TestDerpMapRefusals(t *testing.T) {
	ctx := testContext(t, time.Minute)
	dir := t.TempDir()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"-a", ":8080", "-hostname", "derp.example.com"}, "plain HTTP"},
		{[]string{"-a", ":443", "-hostname", "203.0.113.7", "-certdir", dir}, "--hostname is an IP address"},
		{[]string{"-a", ":0", "-certmode", "manual", "-hostname", "203.0.113.7", "-certdir", dir}, "picks a port"},
		{[]string{"-format", "toml"}, "-format must be one of"},
		{[]string{"-public-ipv4", "2001:db8::1"}, "-public-ipv4 must be an IPv4 address"},
	} {
		out, err := jderperCommand(ctx, t, "derpmap", c.args...).CombinedOutput()
		if err == nil || !strings.Contains(string(out), c.want) {
			t.Errorf("derpmap %s: err %v, output %q; want a failure saying %q", strings.Join(c.args, " "), err, out, c.want)
		}
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("refused derpmap runs wrote %v into the cert dir", entries)
	}
}
