package io.jderper.loadgen;

import io.jderper.core.protocol.DiscoPacket;
import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;

import java.nio.ByteOrder;
import java.util.SplittableRandom;

/**
 * Layout of a load packet's payload: the send time and a sequence number up front, so the receiver (in the same
 * process, on the same clock) computes one-way latency and finds gaps.
 *
 * <pre>
 *  data packet                                 disco packet (the relay's disco queue)
 *  +--------------------------------+          +--------------------------------+
 *  | 0   stamp: System.nanoTime()   |          | 0   magic "TS💬" (6 bytes)     |
 *  | 8   sequence (per kind)        |          | 6   stamp: System.nanoTime()   |
 *  | 16  sender index (int32)       |          | 14  sequence (per kind)        |
 *  | 20  filler ...                 |          | 22  sender index (int32)       |
 *  +--------------------------------+          | 26  filler ... (>= 62 in all)  |
 *                                              +--------------------------------+
 * </pre>
 *
 * Every field is big-endian. Sequence numbers count data and disco packets separately: the relay queues the two
 * kinds apart, so only within a kind is the order kept and a gap a loss.
 */
final class PayloadDescriptor
{
    /** Offset of the header in a data packet. */
    static final int DATA_HEADER_OFFSET = 0;
    /** Offset of the header in a disco packet: after the magic the relay looks for. */
    static final int DISCO_HEADER_OFFSET = 6;
    /** Offset of the send time within the header. */
    static final int STAMP_OFFSET = 0;
    /** Offset of the sequence number within the header. */
    static final int SEQUENCE_OFFSET = 8;
    /** Offset of the sender's peer index within the header. */
    static final int SENDER_OFFSET = 16;
    /** Bytes in the header. */
    static final int HEADER_LENGTH = 20;
    /** Smallest data packet. */
    static final int MIN_DATA_LENGTH = DATA_HEADER_OFFSET + HEADER_LENGTH;
    /** Smallest disco packet: the relay only treats packets of at least this length as disco. */
    static final int MIN_DISCO_LENGTH = Math.max(DiscoPacket.MIN_LENGTH, DISCO_HEADER_OFFSET + HEADER_LENGTH);

    private static final byte[] DISCO_MAGIC = {0x54, 0x53, (byte)0xF0, (byte)0x9F, (byte)0x92, (byte)0xAC};

    private PayloadDescriptor()
    {
    }

    /**
     * Fills a template: random filler (from {@code random}) and, for disco, the magic.
     *
     * @param buffer the template, as long as a packet.
     * @param disco  whether it is a disco template.
     * @param random filler source.
     */
    static void fillTemplate(final MutableDirectBuffer buffer, final boolean disco, final SplittableRandom random)
    {
        for (int i = 0; i < buffer.capacity(); i++)
        {
            buffer.putByte(i, (byte)random.nextInt(256));
        }
        if (disco)
        {
            buffer.putBytes(0, DISCO_MAGIC);
        }
    }

    /**
     * @param disco whether the packet is disco.
     * @return where its header starts.
     */
    static int headerOffset(final boolean disco)
    {
        return disco ? DISCO_HEADER_OFFSET : DATA_HEADER_OFFSET;
    }

    /**
     * Writes the header of a packet about to be sent.
     *
     * @param buffer   the packet.
     * @param header   where its header starts.
     * @param stampNs  the send time.
     * @param sequence the per-kind sequence number.
     * @param sender   the sender's peer index.
     */
    static void putHeader(
        final MutableDirectBuffer buffer, final int header, final long stampNs, final long sequence, final int sender)
    {
        buffer.putLong(header + STAMP_OFFSET, stampNs, ByteOrder.BIG_ENDIAN);
        buffer.putLong(header + SEQUENCE_OFFSET, sequence, ByteOrder.BIG_ENDIAN);
        buffer.putInt(header + SENDER_OFFSET, sender, ByteOrder.BIG_ENDIAN);
    }

    static long stamp(final DirectBuffer buffer, final int header)
    {
        return buffer.getLong(header + STAMP_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    static long sequence(final DirectBuffer buffer, final int header)
    {
        return buffer.getLong(header + SEQUENCE_OFFSET, ByteOrder.BIG_ENDIAN);
    }

    static int sender(final DirectBuffer buffer, final int header)
    {
        return buffer.getInt(header + SENDER_OFFSET, ByteOrder.BIG_ENDIAN);
    }
}
