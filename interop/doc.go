// Package interop holds jderper's Go interoperability suite.
//
// The tests start a DERP server as a subprocess (by default jderper's runnable
// jar, see README.md) on loopback and talk to it with Tailscale's own client
// packages (tailscale.com/derp, tailscale.com/derp/derphttp) and tools
// (cmd/derpprobe), pinned to the tailscale.com version in go.mod.
//
// Everything lives in the _test.go files of this package; the only command is
// cmd/vectorgen, which prints byte-level test vectors for the Java tests.
package interop
