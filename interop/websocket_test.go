package interop

// DERP over WebSocket (spec §1.6): Tailscale's own WebSocket DERP client
// exchanges packets with a raw-TCP client through the same server, and the
// server refuses what derper refuses.

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"tailscale.com/derp"
)

func TestWebSocket(t *testing.T) {
	s := startServer(t, serverOptions{})
	ctx := testContext(t, 2*time.Minute)

	t.Run("relay-with-tcp-client", func(t *testing.T) {
		tcp := newPeer(ctx, t, s, "TCP", peerOptions{preferred: true})
		ws := newPeer(ctx, t, s, "WS", peerOptions{preferred: true, websocket: true})
		// Up to the largest packet: the server must split what it sends into
		// messages Go's WebSocket reader takes, and take a whole DERP frame in one.
		for _, n := range []int{0, 1, 100, 1400, 4095, 4096, 32 << 10, 40000, derp.MaxPacketSize} {
			// derper writes a RecvPacket frame (5-byte header, 32-byte source
			// key, data) as one message, and Tailscale's own WebSocket client
			// refuses messages over 32 KiB ("message too big"), so against
			// derper larger packets cannot arrive over WebSocket.
			if s.Kind == serverGoDerper && 5+32+n > 32<<10 {
				t.Logf("%d-byte packet left out against %s: its WebSocket messages would exceed the client's 32 KiB limit", n, s.Kind)
				continue
			}
			pkt := randBytes(t, n)
			tcp.send(t, ws.pub, pkt)
			ws.expectPacket(ctx, t, tcp, pkt)
			reply := randBytes(t, n)
			ws.send(t, tcp.pub, reply)
			tcp.expectPacket(ctx, t, ws, reply)
		}
	})

	t.Run("text-message-closes-1003", func(t *testing.T) {
		c := dialWebSocket(ctx, t, s, "derp")
		if err := c.Write(ctx, websocket.MessageText, []byte("hello")); err != nil {
			t.Fatalf("writing a text message: %v", err)
		}
		if got := closeStatusAfterServerKey(ctx, t, c); got != websocket.StatusUnsupportedData {
			t.Errorf("close status %v, want %v", got, websocket.StatusUnsupportedData)
		}
	})

	t.Run("other-subprotocol-closes-1008", func(t *testing.T) {
		// "derpx" contains "derp", so the request is taken as WebSocket DERP,
		// but the derp subprotocol itself was not offered.
		c := dialWebSocket(ctx, t, s, "derpx")
		_, _, err := c.Read(ctx)
		if got := websocket.CloseStatus(err); got != websocket.StatusPolicyViolation {
			t.Errorf("first read: %v (close status %v), want close status %v", err, got, websocket.StatusPolicyViolation)
		}
	})

	t.Run("unmasked-client-frame-closes-1002", func(t *testing.T) {
		conn, br := rawWebSocket(ctx, t, s)
		// RFC 6455 §5.1: a client must mask every frame; this one is not masked.
		if _, err := conn.Write([]byte{0x82, 0x03, 'a', 'b', 'c'}); err != nil {
			t.Fatal(err)
		}
		status, err := readUntilClose(br)
		if err != nil {
			t.Fatalf("reading the server's frames: %v", err)
		}
		// RFC 6455 §7.4.1: 1002 is "protocol error". derper's library closes
		// with 1000; either way the connection ends with a close frame.
		if status != 1002 && s.Kind != serverGoDerper {
			t.Errorf("close status %d, want 1002 (protocol error)", status)
		}
	})

	t.Run("handshake-errors", func(t *testing.T) {
		key := base64.StdEncoding.EncodeToString(make([]byte, 16))
		wsHeaders := func(extra map[string]string) map[string]string {
			h := map[string]string{"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Protocol": "derp",
				"Sec-WebSocket-Version": "13", "Sec-WebSocket-Key": key}
			for k, v := range extra {
				if v == "" {
					delete(h, k)
				} else {
					h[k] = v
				}
			}
			return h
		}
		runHTTPChecks(ctx, t, s.httpsClient(t), "https://"+s.Addr(), []httpCheck{
			{method: http.MethodGet, path: "/derp", header: wsHeaders(map[string]string{"Sec-WebSocket-Key": ""}),
				wantStatus: http.StatusBadRequest},
			{method: http.MethodGet, path: "/derp", header: wsHeaders(map[string]string{"Sec-WebSocket-Key": "c2hvcnQ="}),
				wantStatus: http.StatusBadRequest},
			{method: http.MethodGet, path: "/derp", header: wsHeaders(map[string]string{"Sec-WebSocket-Version": "8"}),
				wantStatus: http.StatusBadRequest, wantHeader: map[string]string{"Sec-WebSocket-Version": "13"}},
		})
	})

	t.Run("websocket-without-subprotocol-is-raw-derp", func(t *testing.T) {
		// Early Tailscale clients sent "Upgrade: WebSocket" and spoke raw DERP:
		// without the derp subprotocol the request is a raw DERP upgrade.
		conn := s.dialTLS(ctx, t, 0)
		fmt.Fprintf(conn, "GET /derp HTTP/1.1\r\nHost: %s\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\n\r\n", s.HostName)
		head, err := readHTTPHead(bufio.NewReader(conn))
		if err != nil {
			t.Fatalf("reading the response: %v", err)
		}
		if !strings.HasPrefix(head, "HTTP/1.1 101 ") || !strings.Contains(head, "\r\nUpgrade: DERP\r\n") {
			t.Errorf("response %q, want 101 with Upgrade: DERP", head)
		}
	})
}

// dialWebSocket opens a WebSocket to /derp offering one subprotocol, with the
// server's pinned TLS configuration. It is closed when the test ends.
func dialWebSocket(ctx context.Context, t *testing.T, s *server, subprotocol string) *websocket.Conn {
	t.Helper()
	c, resp, err := websocket.Dial(ctx, "https://"+s.Addr()+"/derp", &websocket.DialOptions{
		HTTPClient:   s.httpsClient(t),
		Subprotocols: []string{subprotocol},
	})
	if err != nil {
		t.Fatalf("WebSocket dial: %v (%+v)", err, resp)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c
}

// closeStatusAfterServerKey reads the ServerKey frame the server sends first,
// then returns the close status that ends the connection.
func closeStatusAfterServerKey(ctx context.Context, t *testing.T, c *websocket.Conn) websocket.StatusCode {
	t.Helper()
	for {
		typ, _, err := c.Read(ctx)
		if err != nil {
			return websocket.CloseStatus(err)
		}
		if typ != websocket.MessageBinary {
			t.Fatalf("server sent a %v message", typ)
		}
	}
}

// rawWebSocket performs the opening handshake by hand over TLS, so that the
// test can send frames no WebSocket library would.
func rawWebSocket(ctx context.Context, t *testing.T, s *server) (io.Writer, *bufio.Reader) {
	t.Helper()
	conn := s.dialTLS(ctx, t, 0)
	key := make([]byte, 16)
	rand.Read(key)
	fmt.Fprintf(conn, "GET /derp HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: %s\r\nSec-WebSocket-Protocol: derp\r\n\r\n",
		s.HostName, base64.StdEncoding.EncodeToString(key))
	br := bufio.NewReader(conn)
	head, err := readHTTPHead(br)
	if err != nil {
		t.Fatalf("reading the handshake response: %v", err)
	}
	if !strings.HasPrefix(head, "HTTP/1.1 101 ") || !strings.Contains(strings.ToLower(head), "sec-websocket-protocol: derp") {
		t.Fatalf("handshake response %q, want 101 with the derp subprotocol", head)
	}
	return conn, br
}

// readUntilClose reads server frames (unmasked, as RFC 6455 requires of a
// server) until a close frame and returns its status code.
func readUntilClose(br *bufio.Reader) (int, error) {
	for {
		var head [2]byte
		if _, err := io.ReadFull(br, head[:]); err != nil {
			return 0, err
		}
		if head[1]&0x80 != 0 {
			return 0, errors.New("the server masked a frame")
		}
		n := uint64(head[1] & 0x7f)
		switch n {
		case 126:
			var ext [2]byte
			if _, err := io.ReadFull(br, ext[:]); err != nil {
				return 0, err
			}
			n = uint64(binary.BigEndian.Uint16(ext[:]))
		case 127:
			var ext [8]byte
			if _, err := io.ReadFull(br, ext[:]); err != nil {
				return 0, err
			}
			n = binary.BigEndian.Uint64(ext[:])
		}
		if n > 1<<20 {
			return 0, fmt.Errorf("frame of %d bytes", n)
		}
		payload := make([]byte, n)
		if _, err := io.ReadFull(br, payload); err != nil {
			return 0, err
		}
		if head[0]&0x0f == 0x8 {
			if len(payload) < 2 {
				return 0, errors.New("close frame without a status")
			}
			return int(binary.BigEndian.Uint16(payload)), nil
		}
	}
}
