/**
 * A DERP client on Netty, for load generators (thousands of simulated peers on a few event loops) and mesh links.
 *
 * <p>{@link io.jderper.transport.client.DerpClients} holds the shared event loop group, allocator and TLS set-up and
 * opens {@link io.jderper.transport.client.DerpClient}s from {@link io.jderper.transport.client.DerpClientOptions};
 * each client reports what the server sends to a {@link io.jderper.transport.client.DerpClientListener} on its event
 * loop. Server certificates are checked as a {@link io.jderper.transport.client.DerpTrust} says: system CAs, a PEM
 * CA file, or Tailscale's {@code sha256-raw:} pin.
 */
package io.jderper.transport.client;
