//go:build ts_debug_websockets

package interop

// websocketClientBuilt: derphttp was compiled with its WebSocket client
// (build tag ts_debug_websockets, which ./jderper interop passes).
const websocketClientBuilt = true
