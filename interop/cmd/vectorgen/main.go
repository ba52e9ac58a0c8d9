// Command vectorgen prints byte-level DERP test vectors as JSON, for
// jderper's Java tests.
//
// It runs Tailscale's own DERP client (tailscale.com/derp, version pinned in
// go.mod) over an in-memory pipe against a tiny fake server that sends a valid
// ServerKey frame and records every frame the client writes. It also records
// NaCl boxes sealed with key.NodePrivate.SealTo in both directions, and the two
// server frames the fake server sends (ServerKey, and a ServerInfo that the Go
// client accepted).
//
// Usage (from the interop module):
//
//	go run ./cmd/vectorgen            # fixed keys (nonces are still random)
//	go run ./cmd/vectorgen -random    # fresh random keys
//
// Output schema (all binary values are lower-case hex, keys are raw 32 bytes):
//
//	{
//	  "tailscaleVersion": "v1.102.3",
//	  "serverPrivateKey": "<64hex>", "serverPublicKey": "<64hex>",
//	  "clientPrivateKey": "<64hex>", "clientPublicKey": "<64hex>",
//	  "meshKey": "<64hex>",
//	  "frames": [ { "name": "...", "hex": "<whole frame incl. 5-byte header>", ...details } ],
//	  "serverFrames": [ { "name": "ServerKey"|"ServerInfo", "hex": "...", ... } ],
//	  "boxes": [ { "from": "client"|"server", "to": "server"|"client",
//	               "plaintextHex": "...", "sealedHex": "<nonce(24)|tag(16)|ciphertext>" } ]
//	}
//
// Frame details (present only where they apply): "dst", "src" (peer keys),
// "payloadHex" (the packet data of SendPacket/ForwardPacket), "preferred",
// "pingHex", "clientPublicKey" + "plaintext" (the JSON inside a ClientInfo box,
// which opens with serverPrivateKey and that client public key), "meshKey".
package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"runtime/debug"
	"time"

	"tailscale.com/derp"
	"tailscale.com/types/key"
)

// Frame is one recorded DERP frame.
type Frame struct {
	Name            string  `json:"name"`
	Hex             string  `json:"hex"`
	ClientPublicKey string  `json:"clientPublicKey,omitempty"`
	Plaintext       string  `json:"plaintext,omitempty"`
	MeshKey         string  `json:"meshKey,omitempty"`
	Src             string  `json:"src,omitempty"`
	Dst             string  `json:"dst,omitempty"`
	PayloadHex      *string `json:"payloadHex,omitempty"`
	Preferred       *bool   `json:"preferred,omitempty"`
	PingHex         string  `json:"pingHex,omitempty"`
}

// Box is one NaCl box as key.NodePrivate.SealTo produces it.
type Box struct {
	From         string `json:"from"`
	To           string `json:"to"`
	PlaintextHex string `json:"plaintextHex"`
	SealedHex    string `json:"sealedHex"`
}

// Vectors is the whole output document.
type Vectors struct {
	TailscaleVersion string  `json:"tailscaleVersion"`
	ServerPrivateKey string  `json:"serverPrivateKey"`
	ServerPublicKey  string  `json:"serverPublicKey"`
	ClientPrivateKey string  `json:"clientPrivateKey"`
	ClientPublicKey  string  `json:"clientPublicKey"`
	MeshKey          string  `json:"meshKey"`
	Frames           []Frame `json:"frames"`
	ServerFrames     []Frame `json:"serverFrames"`
	Boxes            []Box   `json:"boxes"`
}

func main() {
	random := flag.Bool("random", false, "use fresh random keys instead of the fixed ones")
	flag.Parse()
	log.SetFlags(0)
	v, err := generate(*random)
	if err != nil {
		log.Fatalf("vectorgen: %v", err)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		log.Fatalf("vectorgen: %v", err)
	}
}

// fixedKey derives a stable, clamped Curve25519 private key from a label.
func fixedKey(label string) key.NodePrivate {
	sum := sha256.Sum256([]byte("jderper vectorgen " + label))
	sum[0] &= 248
	sum[31] = (sum[31] & 127) | 64
	var k key.NodePrivate
	if err := k.UnmarshalText([]byte("privkey:" + hex.EncodeToString(sum[:]))); err != nil {
		panic(err)
	}
	return k
}

func privHex(k key.NodePrivate) string { return k.UntypedHexString() }
func pubHex(k key.NodePublic) string   { return hex.EncodeToString(k.AppendTo(nil)) }

func tailscaleVersion() string {
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "tailscale.com" {
				return d.Version
			}
		}
	}
	return "unknown"
}

func generate(random bool) (*Vectors, error) {
	var serverPriv, clientPriv, peerPriv, peer2Priv key.NodePrivate
	if random {
		serverPriv, clientPriv, peerPriv, peer2Priv = key.NewNode(), key.NewNode(), key.NewNode(), key.NewNode()
	} else {
		serverPriv, clientPriv, peerPriv, peer2Priv = fixedKey("server"), fixedKey("client"), fixedKey("peer"), fixedKey("peer2")
	}
	meshRaw := sha256.Sum256([]byte("jderper vectorgen mesh"))
	meshKey, err := key.ParseDERPMesh(hex.EncodeToString(meshRaw[:]))
	if err != nil {
		return nil, err
	}
	serverPub, clientPub := serverPriv.Public(), clientPriv.Public()
	dst, src := peerPriv.Public(), peer2Priv.Public()

	v := &Vectors{
		TailscaleVersion: tailscaleVersion(),
		ServerPrivateKey: privHex(serverPriv),
		ServerPublicKey:  pubHex(serverPub),
		ClientPrivateKey: privHex(clientPriv),
		ClientPublicKey:  pubHex(clientPub),
		MeshKey:          meshKey.String(),
	}

	// Session 1: a tailscaled-like client (CanAckPings) doing every
	// client-side operation the derp package exposes.
	sess, err := startSession(serverPriv, clientPriv, derp.CanAckPings(true))
	if err != nil {
		return nil, err
	}
	defer sess.close()
	ci, err := sess.clientInfo("ClientInfo", clientPriv.Public(), serverPriv)
	if err != nil {
		return nil, err
	}
	v.Frames = append(v.Frames, ci)
	v.ServerFrames = append(v.ServerFrames, Frame{Name: "ServerKey", Hex: hex.EncodeToString(sess.serverKeyFrame)})

	// The ServerInfo the fake server answers with; the Go client must accept it.
	siJSON := []byte(`{"version":2}`)
	siFrame := frameBytes(derp.FrameServerInfo, serverPriv.SealTo(clientPub, siJSON))
	wrote := sess.serverWrite(siFrame)
	m, err := sess.client.Recv()
	if err != nil {
		return nil, fmt.Errorf("client rejected our ServerInfo: %v", err)
	}
	if err := wait(wrote); err != nil {
		return nil, fmt.Errorf("writing ServerInfo: %v", err)
	}
	if _, ok := m.(derp.ServerInfoMessage); !ok {
		return nil, fmt.Errorf("client parsed ServerInfo as %T", m)
	}
	v.ServerFrames = append(v.ServerFrames, Frame{Name: "ServerInfo", Hex: hex.EncodeToString(siFrame), Plaintext: string(siJSON)})

	payload := []byte("hello from vectorgen")
	disco := append([]byte("TS\xf0\x9f\x92\xac"), bytes.Repeat([]byte{0xd1}, 56)...) // 62 bytes: smallest disco-looking packet
	big := make([]byte, 1400)
	for i := range big {
		big[i] = byte(i)
	}
	ping := [8]byte{1, 2, 3, 4, 5, 6, 7, 8}
	yes, no := true, false

	type op struct {
		frame Frame
		do    func() error
	}
	ph := func(b []byte) *string { s := hex.EncodeToString(b); return &s }
	ops := []op{
		{Frame{Name: "SendPacket", Dst: pubHex(dst), PayloadHex: ph(payload)}, func() error { return sess.client.Send(dst, payload) }},
		{Frame{Name: "SendPacketEmpty", Dst: pubHex(dst), PayloadHex: ph(nil)}, func() error { return sess.client.Send(dst, nil) }},
		{Frame{Name: "SendPacketDisco", Dst: pubHex(dst), PayloadHex: ph(disco)}, func() error { return sess.client.Send(dst, disco) }},
		{Frame{Name: "SendPacket1400", Dst: pubHex(dst), PayloadHex: ph(big)}, func() error { return sess.client.Send(dst, big) }},
		{Frame{Name: "NotePreferred", Preferred: &yes}, func() error { return sess.client.NotePreferred(true) }},
		{Frame{Name: "NotePreferredFalse", Preferred: &no}, func() error { return sess.client.NotePreferred(false) }},
		{Frame{Name: "Ping", PingHex: hex.EncodeToString(ping[:])}, func() error { return sess.client.SendPing(ping) }},
		{Frame{Name: "Pong", PingHex: hex.EncodeToString(ping[:])}, func() error { return sess.client.SendPong(ping) }},
		{Frame{Name: "WatchConns"}, func() error { return sess.client.WatchConnectionChanges() }},
		{Frame{Name: "ClosePeer", Dst: pubHex(dst)}, func() error { return sess.client.ClosePeer(dst) }},
		{Frame{Name: "ForwardPacket", Src: pubHex(src), Dst: pubHex(dst), PayloadHex: ph(payload)}, func() error { return sess.client.ForwardPacket(src, dst, payload) }},
	}
	for _, o := range ops {
		if err := o.do(); err != nil {
			return nil, fmt.Errorf("%s: %v", o.frame.Name, err)
		}
		b, err := sess.nextFrame()
		if err != nil {
			return nil, fmt.Errorf("%s: %v", o.frame.Name, err)
		}
		f := o.frame
		f.Hex = hex.EncodeToString(b)
		v.Frames = append(v.Frames, f)
	}

	// Session 2: a mesh peer (meshKey set, CanAckPings false) — as derper's
	// mesh clients connect.
	sess2, err := startSession(serverPriv, clientPriv, derp.MeshKey(meshKey))
	if err != nil {
		return nil, err
	}
	defer sess2.close()
	ci2, err := sess2.clientInfo("ClientInfoMesh", clientPub, serverPriv)
	if err != nil {
		return nil, err
	}
	ci2.MeshKey = meshKey.String()
	v.Frames = append(v.Frames, ci2)

	// Session 3: a prober with an app name, as derpprobe-like tools connect.
	sess3, err := startSession(serverPriv, clientPriv, derp.IsProber(true), derp.AppName("vectorgen"))
	if err != nil {
		return nil, err
	}
	defer sess3.close()
	ci3, err := sess3.clientInfo("ClientInfoProber", clientPub, serverPriv)
	if err != nil {
		return nil, err
	}
	v.Frames = append(v.Frames, ci3)

	// Standalone boxes in both directions.
	random1k := make([]byte, 1000)
	for i := range random1k {
		random1k[i] = byte(i * 7)
	}
	for _, pt := range [][]byte{{}, []byte(`{"version":2,"CanAckPings":true}`), random1k} {
		sealed := clientPriv.SealTo(serverPub, pt)
		if got, ok := serverPriv.OpenFrom(clientPub, sealed); !ok || !bytes.Equal(got, pt) {
			return nil, errors.New("self-check: client->server box does not open")
		}
		v.Boxes = append(v.Boxes, Box{From: "client", To: "server", PlaintextHex: hex.EncodeToString(pt), SealedHex: hex.EncodeToString(sealed)})
	}
	for _, pt := range [][]byte{[]byte(`{"version":2}`), {}, random1k} {
		sealed := serverPriv.SealTo(clientPub, pt)
		if got, ok := clientPriv.OpenFrom(serverPub, sealed); !ok || !bytes.Equal(got, pt) {
			return nil, errors.New("self-check: server->client box does not open")
		}
		v.Boxes = append(v.Boxes, Box{From: "server", To: "client", PlaintextHex: hex.EncodeToString(pt), SealedHex: hex.EncodeToString(sealed)})
	}
	return v, nil
}

// frameBytes builds a whole frame: type, big-endian uint32 length, payload.
func frameBytes(t derp.FrameType, payload []byte) []byte {
	b := make([]byte, 5, 5+len(payload))
	b[0] = byte(t)
	binary.BigEndian.PutUint32(b[1:], uint32(len(payload)))
	return append(b, payload...)
}

// session is a derp.Client connected over net.Pipe to a recording fake server.
type session struct {
	client         *derp.Client
	clientConn     net.Conn
	serverConn     net.Conn
	serverKeyFrame []byte
	frames         chan []byte
	readErr        chan error
}

const ioTimeout = 5 * time.Second

func startSession(serverPriv, clientPriv key.NodePrivate, opts ...derp.ClientOpt) (*session, error) {
	cc, sc := net.Pipe()
	s := &session{
		clientConn:     cc,
		serverConn:     sc,
		serverKeyFrame: frameBytes(derp.FrameServerKey, append([]byte(derp.Magic), serverPriv.Public().AppendTo(nil)...)),
		frames:         make(chan []byte, 64),
		readErr:        make(chan error, 1),
	}
	deadline := time.Now().Add(ioTimeout)
	cc.SetDeadline(deadline)
	sc.SetDeadline(deadline)

	// Fake server: greet, then record whole frames as the client writes them.
	go func() {
		if _, err := sc.Write(s.serverKeyFrame); err != nil {
			s.readErr <- fmt.Errorf("writing ServerKey: %v", err)
			return
		}
		br := bufio.NewReader(sc)
		for {
			hdr := make([]byte, 5)
			if _, err := io.ReadFull(br, hdr); err != nil {
				s.readErr <- err
				return
			}
			n := binary.BigEndian.Uint32(hdr[1:])
			if n > 1<<20 {
				s.readErr <- fmt.Errorf("frame too large: %d", n)
				return
			}
			b := make([]byte, 5+int(n))
			copy(b, hdr)
			if _, err := io.ReadFull(br, b[5:]); err != nil {
				s.readErr <- err
				return
			}
			s.frames <- b
		}
	}()

	brw := bufio.NewReadWriter(bufio.NewReader(cc), bufio.NewWriter(cc))
	c, err := derp.NewClient(clientPriv, cc, brw, func(string, ...any) {}, opts...)
	if err != nil {
		s.close()
		return nil, fmt.Errorf("derp.NewClient: %v", err)
	}
	s.client = c
	return s, nil
}

func (s *session) nextFrame() ([]byte, error) {
	select {
	case b := <-s.frames:
		return b, nil
	case err := <-s.readErr:
		return nil, fmt.Errorf("fake server read: %v", err)
	case <-time.After(ioTimeout):
		return nil, errors.New("timed out waiting for a client frame")
	}
}

// serverWrite starts writing raw bytes from the fake server to the client.
// net.Pipe is synchronous, so the write completes only while the client
// reads; collect the result with wait.
func (s *session) serverWrite(b []byte) <-chan error {
	errc := make(chan error, 1)
	go func() {
		_, err := s.serverConn.Write(b)
		errc <- err
	}()
	return errc
}

func wait(errc <-chan error) error {
	select {
	case err := <-errc:
		return err
	case <-time.After(ioTimeout):
		return errors.New("timed out")
	}
}

// clientInfo takes the next frame, which must be the ClientInfo, and opens
// its box to record the JSON plaintext.
func (s *session) clientInfo(name string, clientPub key.NodePublic, serverPriv key.NodePrivate) (Frame, error) {
	b, err := s.nextFrame()
	if err != nil {
		return Frame{}, fmt.Errorf("%s: %v", name, err)
	}
	if derp.FrameType(b[0]) != derp.FrameClientInfo || len(b) < 5+32+24+16 {
		return Frame{}, fmt.Errorf("%s: unexpected first frame %x", name, b)
	}
	var gotPub key.NodePublic
	if err := gotPub.UnmarshalText([]byte("nodekey:" + hex.EncodeToString(b[5:5+32]))); err != nil {
		return Frame{}, err
	}
	if gotPub != clientPub {
		return Frame{}, fmt.Errorf("%s: client key %v, want %v", name, gotPub, clientPub)
	}
	pt, ok := serverPriv.OpenFrom(clientPub, b[5+32:])
	if !ok {
		return Frame{}, fmt.Errorf("%s: box does not open", name)
	}
	return Frame{Name: name, Hex: hex.EncodeToString(b), ClientPublicKey: pubHex(clientPub), Plaintext: string(pt)}, nil
}

func (s *session) close() {
	s.clientConn.Close()
	s.serverConn.Close()
}
