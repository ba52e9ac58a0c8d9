package io.jderper.core.protocol;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;

/**
 * Layout of the 5-byte header that starts every DERP frame (spec §2.1).
 *
 * <pre>
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |     Type      |          Payload length (uint32, big-endian)  |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |   ...length   |  Payload ...
 *  +-+-+-+-+-+-+-+-+
 * </pre>
 */
public final class FrameHeader
{
    /** Bytes in a frame header. */
    public static final int LENGTH = 5;
    /** Offset of the type byte. */
    public static final int TYPE_OFFSET = 0;
    /** Offset of the payload length. */
    public static final int PAYLOAD_LENGTH_OFFSET = 1;

    private FrameHeader()
    {
    }

    /**
     * @param buffer holding a header at {@code offset}.
     * @param offset of the header.
     * @return the frame type byte.
     */
    public static byte type(final DirectBuffer buffer, final int offset)
    {
        return buffer.getByte(offset + TYPE_OFFSET);
    }

    /**
     * The payload length as an unsigned value; a declared length over 2^31-1 is returned as a negative
     * int's unsigned long, so callers compare against their limit with this long.
     *
     * @param buffer holding a header at {@code offset}.
     * @param offset of the header.
     * @return the unsigned payload length.
     */
    public static long payloadLength(final DirectBuffer buffer, final int offset)
    {
        return Integer.toUnsignedLong(buffer.getInt(offset + PAYLOAD_LENGTH_OFFSET, ByteOrder.BIG_ENDIAN));
    }

    /**
     * Writes a header.
     *
     * @param buffer        to write into.
     * @param offset        of the header.
     * @param type          frame type.
     * @param payloadLength payload bytes that follow.
     * @return {@link #LENGTH}, for chaining offsets.
     */
    public static int write(final MutableDirectBuffer buffer, final int offset, final byte type, final int payloadLength)
    {
        buffer.putByte(offset + TYPE_OFFSET, type);
        buffer.putInt(offset + PAYLOAD_LENGTH_OFFSET, payloadLength, ByteOrder.BIG_ENDIAN);
        return LENGTH;
    }
}
