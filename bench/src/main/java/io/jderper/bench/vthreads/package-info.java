/**
 * The virtual-thread-per-connection transport, kept as a measured experiment beside the event-loop transport it lost
 * to (see docs/architecture.md, "Two transports", and the perf report's {@code jderper-vthreads} column).
 *
 * <p>Each connection is a blocking {@link java.nio.channels.SocketChannel} with two virtual threads: a reader that
 * runs the TLS handshake through an {@link javax.net.ssl.SSLEngine} from the relay's own TLS context, parses the
 * {@code /derp} upgrade and then decrypts and dispatches DERP frames, and a writer that encrypts and writes what
 * the relay core queued. The relay core is the production one, unchanged: its sessions are owned by a
 * {@link io.jderper.core.router.RelayLoop} per shard, and the shard's lock stands in for the event loop's thread.
 */
package io.jderper.bench.vthreads;
