package io.jderper.core.router;

import java.util.Arrays;

/**
 * A RecvPacket frame as the fake transport builds it: what the core asked for, the data the "transport" appended,
 * and whether the frame ended up released or written, so tests can prove no frame leaks or is used twice.
 */
final class TestFrame
{
    final long destinationId;
    final boolean disco;
    final boolean forwarded;
    final byte[] sourceKey;
    /** Set only on ForwardPacket frames, which name their destination by key. */
    final byte[] destinationKey;
    final int dataLength;
    private byte[] data;
    boolean released;
    boolean written;

    TestFrame(final long destinationId, final boolean disco, final boolean forwarded, final byte[] sourceKey,
        final byte[] destinationKey, final int dataLength)
    {
        this.destinationId = destinationId;
        this.disco = disco;
        this.forwarded = forwarded;
        this.sourceKey = sourceKey;
        this.destinationKey = destinationKey;
        this.dataLength = dataLength;
    }

    /** What the transport does between beginSendPacket and completePacket: appends the packet bytes. */
    void fill(final byte[] packet)
    {
        if (packet.length != dataLength)
        {
            throw new AssertionError("frame announced dataLength=" + dataLength + ", filled " + packet.length);
        }
        if (null != data)
        {
            throw new AssertionError("frame filled twice");
        }
        data = packet.clone();
    }

    byte[] data()
    {
        return null == data ? null : data.clone();
    }

    @Override
    public String toString()
    {
        return "TestFrame{dest=" + destinationId + ", disco=" + disco + ", len=" + dataLength +
            ", first=" + (null == data || 0 == data.length ? "-" : Integer.toHexString(data[0] & 0xFF)) +
            ", released=" + released + ", written=" + written + ", data=" + (null == data ? "null" :
            Arrays.toString(Arrays.copyOf(data, Math.min(4, data.length)))) + "}";
    }
}
