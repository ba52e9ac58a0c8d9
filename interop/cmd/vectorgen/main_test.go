package main

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"testing"

	"golang.org/x/crypto/nacl/box"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

func key32(t *testing.T, s string) *[32]byte {
	t.Helper()
	b := mustHex(t, s)
	if len(b) != 32 {
		t.Fatalf("key %q is %d bytes", s, len(b))
	}
	return (*[32]byte)(b)
}

// open opens a sealed box (nonce|tag|ciphertext) with x/crypto's NaCl box,
// independently of tailscale's key package.
func open(t *testing.T, sealed []byte, peerPub, myPriv *[32]byte) ([]byte, bool) {
	t.Helper()
	if len(sealed) < 24 {
		return nil, false
	}
	return box.Open(nil, sealed[24:], (*[24]byte)(sealed[:24]), peerPub, myPriv)
}

// TestVectors checks the generated document's internal consistency, as the
// Java side will read it.
func TestVectors(t *testing.T) {
	for _, random := range []bool{false, true} {
		v, err := generate(random)
		if err != nil {
			t.Fatal(err)
		}
		// Round-trip through JSON, as consumers see it.
		j, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		var d Vectors
		if err := json.Unmarshal(j, &d); err != nil {
			t.Fatal(err)
		}
		serverPriv, serverPub := key32(t, d.ServerPrivateKey), key32(t, d.ServerPublicKey)
		clientPriv, clientPub := key32(t, d.ClientPrivateKey), key32(t, d.ClientPublicKey)

		seen := map[string]bool{}
		for _, f := range append(append([]Frame{}, d.Frames...), d.ServerFrames...) {
			seen[f.Name] = true
			b := mustHex(t, f.Hex)
			if len(b) < 5 || int(binary.BigEndian.Uint32(b[1:5])) != len(b)-5 {
				t.Fatalf("%s: header length does not match frame %x", f.Name, b)
			}
			payload := b[5:]
			want := func(typ byte, p []byte) {
				t.Helper()
				if b[0] != typ || !bytes.Equal(payload, p) {
					t.Errorf("%s: frame %x, want type %#x payload %x", f.Name, b, typ, p)
				}
			}
			var pl []byte
			if f.PayloadHex != nil {
				pl = mustHex(t, *f.PayloadHex)
			}
			switch f.Name {
			case "ClientInfo", "ClientInfoMesh", "ClientInfoProber":
				if b[0] != 0x02 || !bytes.Equal(payload[:32], clientPub[:]) {
					t.Fatalf("%s: bad type or key: %x", f.Name, b[:37])
				}
				pt, ok := open(t, payload[32:], clientPub, serverPriv)
				if !ok || string(pt) != f.Plaintext {
					t.Errorf("%s: box opens=%v to %q, want %q", f.Name, ok, pt, f.Plaintext)
				}
				if f.Name == "ClientInfoMesh" && !bytes.Contains(pt, []byte(`"meshKey":"`+d.MeshKey+`"`)) {
					t.Errorf("%s: mesh key missing from %s", f.Name, pt)
				}
			case "SendPacket", "SendPacketEmpty", "SendPacketDisco", "SendPacket1400":
				want(0x04, append(mustHex(t, f.Dst), pl...))
			case "ForwardPacket":
				want(0x0a, append(append(mustHex(t, f.Src), mustHex(t, f.Dst)...), pl...))
			case "NotePreferred":
				want(0x07, []byte{1})
			case "NotePreferredFalse":
				want(0x07, []byte{0})
			case "Ping":
				want(0x12, mustHex(t, f.PingHex))
			case "Pong":
				want(0x13, mustHex(t, f.PingHex))
			case "WatchConns":
				want(0x10, nil)
			case "ClosePeer":
				want(0x11, mustHex(t, f.Dst))
			case "ServerKey":
				want(0x01, append([]byte("DERP\xf0\x9f\x94\x91"), serverPub[:]...))
			case "ServerInfo":
				pt, ok := open(t, payload, serverPub, clientPriv)
				if b[0] != 0x03 || !ok || string(pt) != f.Plaintext {
					t.Errorf("ServerInfo: type %#x, opens=%v to %q", b[0], ok, pt)
				}
			default:
				t.Errorf("unexpected frame name %q", f.Name)
			}
		}
		for _, n := range []string{"ClientInfo", "ClientInfoMesh", "SendPacket", "NotePreferred", "Ping", "WatchConns", "ClosePeer", "ForwardPacket", "ServerKey", "ServerInfo"} {
			if !seen[n] {
				t.Errorf("frame %s missing", n)
			}
		}
		if len(d.Boxes) == 0 {
			t.Fatal("no boxes")
		}
		for i, bx := range d.Boxes {
			sealed, pt := mustHex(t, bx.SealedHex), mustHex(t, bx.PlaintextHex)
			if len(sealed) != len(pt)+40 {
				t.Errorf("box %d: sealed %d bytes for %d plaintext, want +40", i, len(sealed), len(pt))
			}
			var got []byte
			var ok bool
			switch {
			case bx.From == "client" && bx.To == "server":
				got, ok = open(t, sealed, clientPub, serverPriv)
			case bx.From == "server" && bx.To == "client":
				got, ok = open(t, sealed, serverPub, clientPriv)
			default:
				t.Fatalf("box %d: from %q to %q", i, bx.From, bx.To)
			}
			if !ok || !bytes.Equal(got, pt) {
				t.Errorf("box %d (%s->%s): opens=%v", i, bx.From, bx.To, ok)
			}
		}
	}
}
