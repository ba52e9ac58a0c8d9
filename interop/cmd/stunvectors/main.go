// Command stunvectors prints STUN test vectors made by Tailscale's own
// tailscale.com/net/stun package (version pinned in go.mod) as JSON, for
// jderper's Java tests: binding requests exactly as Tailscale sends them,
// binding responses as derper writes them (IPv4, IPv6 and IPv4-mapped IPv6),
// and, for a set of datagrams, whether Tailscale's own server-side parser
// accepts them as binding requests.
//
// Usage (from the interop module): go run ./cmd/stunvectors
//
// Output schema (binary values are lower-case hex):
//
//	{
//	  "tailscaleVersion": "v1.102.3",
//	  "requests":  [ { "txid": "<24hex>", "hex": "..." } ],
//	  "responses": [ { "txid": "<24hex>", "addr": "ip", "port": n, "hex": "..." } ],
//	  "parsed":    [ { "name": "...", "hex": "...", "isBindingRequest": bool, "txid": "<24hex>"? } ]
//	}
package main

import (
	"encoding/hex"
	"encoding/json"
	"log"
	"net/netip"
	"os"
	"runtime/debug"

	"tailscale.com/net/stun"
)

// Request is one binding request from stun.Request.
type Request struct {
	TxID string `json:"txid"`
	Hex  string `json:"hex"`
}

// Response is one binding success response from stun.Response.
type Response struct {
	TxID string `json:"txid"`
	Addr string `json:"addr"`
	Port uint16 `json:"port"`
	Hex  string `json:"hex"`
}

// Parsed records what stun.ParseBindingRequest makes of a datagram.
type Parsed struct {
	Name             string `json:"name"`
	Hex              string `json:"hex"`
	IsBindingRequest bool   `json:"isBindingRequest"`
	TxID             string `json:"txid,omitempty"`
}

// Output is the whole document.
type Output struct {
	TailscaleVersion string     `json:"tailscaleVersion"`
	Requests         []Request  `json:"requests"`
	Responses        []Response `json:"responses"`
	Parsed           []Parsed   `json:"parsed"`
}

func txid(seed byte) stun.TxID {
	var t stun.TxID
	for i := range t {
		t[i] = seed + byte(i)*17
	}
	return t
}

func main() {
	out := Output{TailscaleVersion: moduleVersion("tailscale.com")}

	for _, seed := range []byte{0, 1, 0x5a, 0xff} {
		t := txid(seed)
		out.Requests = append(out.Requests, Request{TxID: hex.EncodeToString(t[:]), Hex: hex.EncodeToString(stun.Request(t))})
	}
	for i, ap := range []string{"127.0.0.2:40000", "203.0.113.7:3478", "[2001:db8::1]:65535", "[::ffff:198.51.100.9]:1", "[fe80::1]:0"} {
		t := txid(byte(0x30 + i))
		addrPort := netip.MustParseAddrPort(ap)
		out.Responses = append(out.Responses, Response{
			TxID: hex.EncodeToString(t[:]),
			Addr: addrPort.Addr().String(),
			Port: addrPort.Port(),
			Hex:  hex.EncodeToString(stun.Response(t, addrPort)),
		})
	}

	request := stun.Request(txid(0x77))
	badFingerprint := append([]byte(nil), request...)
	badFingerprint[len(badFingerprint)-1] ^= 1
	otherSoftware := append([]byte(nil), request...)
	copy(otherSoftware[24:32], "tailnodf")
	notBinding := append([]byte(nil), request...)
	notBinding[1] = 0x02
	badCookie := append([]byte(nil), request...)
	badCookie[4] = 0x22
	truncated := append([]byte(nil), request[:36]...)
	trailing := append(append([]byte(nil), request...), 0, 0, 0, 0)
	for _, c := range []struct {
		name string
		b    []byte
	}{
		{"tailscale-request", request},
		{"bad-fingerprint", badFingerprint},
		{"other-software", otherSoftware},
		{"not-binding", notBinding},
		{"bad-cookie", badCookie},
		{"truncated", truncated},
		{"trailing-bytes", trailing},
		{"header-only", request[:20]},
		{"response", stun.Response(txid(0x77), netip.MustParseAddrPort("127.0.0.1:9"))},
	} {
		p := Parsed{Name: c.name, Hex: hex.EncodeToString(c.b)}
		if t, err := stun.ParseBindingRequest(c.b); err == nil {
			p.IsBindingRequest = true
			p.TxID = hex.EncodeToString(t[:])
		}
		out.Parsed = append(out.Parsed, p)
	}

	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		log.Fatal(err)
	}
}

func moduleVersion(path string) string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == path {
			return dep.Version
		}
	}
	return "unknown"
}
