package io.jderper.core.router;

import io.jderper.core.admission.AdmissionPolicy;
import io.jderper.core.crypto.NaclBox;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.ClientFrames;
import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolLimits;
import org.agrona.BufferUtil;
import org.agrona.concurrent.SystemNanoClock;
import org.agrona.concurrent.UnsafeBuffer;

import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Locale;
import java.util.Optional;

/**
 * A relay core without Netty for the router benchmarks: one router, loops whose tasks the benchmark runs itself, and
 * clients that log in with a real sealed ClientInfo, so sessions reach the established state the way they do in the
 * server.
 */
final class BenchRelay
{
    /** tailscaled's ClientInfo JSON. */
    static final byte[] CLIENT_INFO_JSON = "{\"version\":2,\"CanAckPings\":true}".getBytes(StandardCharsets.UTF_8);

    final SecureRandom random = new SecureRandom();
    final NodePrivateKey serverKey = NodePrivateKey.generate(random);
    final RelayMetrics metrics = new RelayMetrics();
    final RelayConfig config = RelayConfig.defaults(ProtocolLimits.DEFAULT_WRITE_TIMEOUT_MS);
    final Router<BenchFrame> router = new Router<>(
        new ServerHandshake(serverKey, Optional.empty(), random), AdmissionPolicy.ADMIT_ALL, config, metrics);
    final BenchFrames frames;

    /**
     * @param poolSize      frames in the pool.
     * @param maxDataLength largest packet.
     */
    BenchRelay(final int poolSize, final int maxDataLength)
    {
        frames = new BenchFrames(poolSize, maxDataLength);
    }

    /**
     * @param tasks the loop's task queue.
     * @return a relay loop on the shared router.
     */
    RelayLoop<BenchFrame> newLoop(final LoopTasks tasks)
    {
        return new RelayLoop<>(router, tasks, frames, new SystemNanoClock());
    }

    /**
     * Accepts a connection on {@code loop} and completes its handshake with a fresh key.
     *
     * @param loop  where the connection lives.
     * @param tasks that loop's task queue.
     * @return the established client.
     */
    Client connect(final RelayLoop<BenchFrame> loop, final LoopTasks tasks)
    {
        final NodePrivateKey key = NodePrivateKey.generate(random);
        final BenchChannel channel = new BenchChannel(frames, tasks);
        final ClientSession<BenchFrame> session =
            loop.newSession(channel, new InetSocketAddress("198.51.100.7", 41641), false);
        final byte[] sealed = NaclBox.seal(key, serverKey.publicKey().toBytes(), CLIENT_INFO_JSON, random);
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[FrameHeader.LENGTH + ProtocolLimits.KEY_LENGTH +
            sealed.length]);
        final int length = ClientFrames.clientInfo(frame, 0, key.publicKey().toBytes(), sealed);
        session.onClientInfo(FrameType.CLIENT_INFO, frame, FrameHeader.LENGTH, length - FrameHeader.LENGTH);
        tasks.runPending();
        if (!session.isEstablished())
        {
            throw new IllegalStateException("session not established: " + session);
        }
        return new Client(key, channel, session);
    }

    /**
     * @return every drop counted so far, by reason, as text for the teardown report.
     */
    String drops()
    {
        final StringBuilder text = new StringBuilder();
        for (final DropReason reason : DropReason.values())
        {
            final long count = metrics.packetsDropped(reason, RelayMetrics.KIND_DISCO) +
                metrics.packetsDropped(reason, RelayMetrics.KIND_OTHER);
            if (count > 0)
            {
                text.append(' ').append(reason.name().toLowerCase(Locale.ROOT)).append('=').append(count);
            }
        }
        return text.isEmpty() ? " none" : text.toString();
    }

    /**
     * An established client.
     *
     * @param key     its private key.
     * @param channel its fake connection.
     * @param session the relay's session for it.
     */
    record Client(NodePrivateKey key, BenchChannel channel, ClientSession<BenchFrame> session)
    {
        /**
         * @return a whole SendPacket frame from this client to {@code destination}, with non-disco data.
         */
        UnsafeBuffer sendPacketTo(final Client destination, final int dataLength)
        {
            final UnsafeBuffer frame = new UnsafeBuffer(
                BufferUtil.allocateDirectAligned(ClientFrames.SEND_PACKET_PREFIX_LENGTH + dataLength, 64));
            final int prefix = ClientFrames.sendPacketPrefix(
                frame, 0, new UnsafeBuffer(destination.key.publicKey().toBytes()), 0, dataLength);
            for (int i = 0; i < dataLength; i++)
            {
                frame.putByte(prefix + i, (byte)(i * 31 + 7));
            }
            // A WireGuard data message (type 4), never the disco magic.
            frame.putByte(prefix, (byte)4);
            return frame;
        }
    }
}
