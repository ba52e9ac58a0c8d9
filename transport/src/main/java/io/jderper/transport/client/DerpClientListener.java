package io.jderper.transport.client;

import org.agrona.DirectBuffer;

/**
 * Receives what a {@link DerpClient}'s server sends. Every method runs on the client's event loop, so it must not
 * block; one listener may serve many clients, which is why each call names its client.
 *
 * <p>Buffers passed in are views of the read buffers, valid only during the call: copy what must outlive it. Keys
 * are 32 raw bytes at the given offset.
 */
public interface DerpClientListener
{
    /**
     * A RecvPacket: {@code dataLength} bytes from the peer whose key is at {@code source[sourceOffset]}.
     *
     * @param client       the receiving client.
     * @param source       holds the sender's key.
     * @param sourceOffset where it starts.
     * @param data         holds the packet.
     * @param dataOffset   where it starts.
     * @param dataLength   its length, 0 to 65,536 (more only from a non-conforming server, at most 1 MiB).
     */
    void onRecvPacket(
        DerpClient client, DirectBuffer source, int sourceOffset, DirectBuffer data, int dataOffset, int dataLength);

    /**
     * A PeerGone: the peer is gone ({@link io.jderper.core.protocol.PeerGoneReason#DISCONNECTED}) or was never here
     * ({@link io.jderper.core.protocol.PeerGoneReason#NOT_HERE}).
     *
     * @param client    the receiving client.
     * @param key       holds the peer's key.
     * @param keyOffset where it starts.
     * @param reason    the reason byte; the legacy 32-byte form reads as Disconnected.
     */
    default void onPeerGone(final DerpClient client, final DirectBuffer key, final int keyOffset, final byte reason)
    {
    }

    /**
     * A PeerPresent (only for WatchConns subscribers, i.e. mesh-key holders).
     *
     * @param client    the receiving client.
     * @param key       holds the peer's key.
     * @param keyOffset where it starts.
     * @param ip16      holds the peer's 16-byte address (IPv4 mapped into IPv6; all zero if the server sent none).
     * @param ipOffset  where it starts.
     * @param port      the peer's TCP port, 0 if unknown.
     * @param flags     {@link io.jderper.core.protocol.PeerPresentFlags} bits, 0 from old servers.
     */
    default void onPeerPresent(
        final DerpClient client, final DirectBuffer key, final int keyOffset, final DirectBuffer ip16,
        final int ipOffset, final int port, final byte flags)
    {
    }

    /**
     * A Pong answering one of this client's {@link DerpClient#ping(long)}.
     *
     * @param client the receiving client.
     * @param data   the 8 bytes, as a big-endian long.
     */
    default void onPong(final DerpClient client, final long data)
    {
    }

    /**
     * A Ping from the server; if the client announced CanAckPings the Pong has already been written.
     *
     * @param client the receiving client.
     * @param data   the first 8 bytes, as a big-endian long.
     */
    default void onServerPing(final DerpClient client, final long data)
    {
    }

    /**
     * A KeepAlive.
     *
     * @param client the receiving client.
     */
    default void onKeepAlive(final DerpClient client)
    {
    }

    /**
     * A Health frame.
     *
     * @param client  the receiving client.
     * @param problem the problem text; empty means healthy again.
     */
    default void onHealth(final DerpClient client, final String problem)
    {
    }

    /**
     * A Restarting frame.
     *
     * @param client        the receiving client.
     * @param reconnectInMs how long to wait before reconnecting.
     * @param tryForMs      how long to keep trying.
     */
    default void onRestarting(final DerpClient client, final long reconnectInMs, final long tryForMs)
    {
    }

    /**
     * The channel's outbound buffer crossed its high (false) or back under its low (true) water mark.
     *
     * @param client   the client.
     * @param writable the new state, as {@link DerpClient#isWritable()}.
     */
    default void onWritabilityChanged(final DerpClient client, final boolean writable)
    {
    }

    /**
     * The client is finished, exactly once, whether it was ready or not; a handshake failure completes
     * {@link DerpClient#ready()} exceptionally before this runs.
     *
     * @param client the client.
     * @param cause  null after {@link DerpClient#close()}, else why the connection ended (a
     *               {@link DerpClientException}, also when the server closed it).
     */
    default void onClosed(final DerpClient client, final Throwable cause)
    {
    }
}
