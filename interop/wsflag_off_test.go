//go:build !ts_debug_websockets

package interop

// websocketClientBuilt: derphttp was compiled without its WebSocket client;
// the WebSocket tests fail and say how to build it (see wsflag_on_test.go).
const websocketClientBuilt = false
