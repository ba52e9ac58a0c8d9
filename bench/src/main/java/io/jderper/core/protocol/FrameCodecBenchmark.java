package io.jderper.core.protocol;

import io.jderper.bench.AbstractMicrobenchmark;
import org.agrona.BufferUtil;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.SplittableRandom;

/**
 * The frame codec over preallocated off-heap {@link UnsafeBuffer}s: encoding a SendPacket (prefix plus 1200 data
 * bytes, what a mesh link or load generator does per packet), encoding the server's small control frames, and the
 * server's per-frame read decision on a 1200-byte SendPacket (header, {@link FrameRules#check}, disco test).
 * Every benchmark here must show {@code gc.alloc.rate.norm} of about 0 B/op.
 */
@State(Scope.Thread)
public class FrameCodecBenchmark extends AbstractMicrobenchmark
{
    /** A typical WireGuard packet over DERP. */
    static final int DATA_LENGTH = 1200;

    private final UnsafeBuffer out = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64 << 10, 64));
    private final UnsafeBuffer key = new UnsafeBuffer(BufferUtil.allocateDirectAligned(64, 64));
    private final UnsafeBuffer data = new UnsafeBuffer(BufferUtil.allocateDirectAligned(DATA_LENGTH, 64));
    private final UnsafeBuffer sendPacket =
        new UnsafeBuffer(BufferUtil.allocateDirectAligned(ClientFrames.SEND_PACKET_PREFIX_LENGTH + DATA_LENGTH, 64));
    private long pingData;
    private int dataLength;
    private boolean meshPrivileged;

    /**
     * Fills the key, the packet data and a whole SendPacket frame to read.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        final SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < ProtocolLimits.KEY_LENGTH; i++)
        {
            key.putByte(i, (byte)random.nextInt());
        }
        for (int i = 0; i < DATA_LENGTH; i++)
        {
            data.putByte(i, (byte)random.nextInt());
        }
        // WireGuard data starts with type 4, never the disco magic: the common case on the read path.
        data.putByte(0, (byte)4);
        final int prefix = ClientFrames.sendPacketPrefix(sendPacket, 0, key, 0, DATA_LENGTH);
        sendPacket.putBytes(prefix, data, 0, DATA_LENGTH);
        pingData = random.nextLong();
        dataLength = DATA_LENGTH;
        meshPrivileged = false;
    }

    /**
     * A client's SendPacket: header and destination key, then the data appended.
     *
     * @return bytes written.
     */
    @Benchmark
    public int encodeSendPacket()
    {
        final int prefix = ClientFrames.sendPacketPrefix(out, 0, key, 0, dataLength);
        out.putBytes(prefix, data, 0, dataLength);
        return prefix + dataLength;
    }

    /**
     * @return bytes written.
     */
    @Benchmark
    public int encodePong()
    {
        return ControlFrames.pong(out, 0, pingData);
    }

    /**
     * @return bytes written.
     */
    @Benchmark
    public int encodePeerGone()
    {
        return ControlFrames.peerGone(out, 0, key, 0, PeerGoneReason.NOT_HERE);
    }

    /**
     * @return bytes written.
     */
    @Benchmark
    public int encodeKeepAlive()
    {
        return ControlFrames.keepAlive(out, 0);
    }

    /**
     * What the server's read path decides from a SendPacket's first bytes: type and length from the header, the
     * length rule for the type, and whether the data is disco.
     *
     * @return a value depending on every step, so none is dead code.
     */
    @Benchmark
    public long readSendPacket()
    {
        final byte type = FrameHeader.type(sendPacket, 0);
        final long payloadLength = FrameHeader.payloadLength(sendPacket, 0);
        final int action = FrameRules.check(type, payloadLength, meshPrivileged);
        final boolean disco = DiscoPacket.isDisco(sendPacket, ClientFrames.SEND_PACKET_PREFIX_LENGTH,
            (int)payloadLength - ProtocolLimits.KEY_LENGTH);
        return payloadLength + action + (disco ? 1 : 0);
    }
}
