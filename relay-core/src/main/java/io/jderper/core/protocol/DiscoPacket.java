package io.jderper.core.protocol;

import org.agrona.DirectBuffer;

/**
 * Recognises disco packets (spec §3.4): magic {@code "TS💬"} followed by a 32-byte disco key and a 24-byte nonce.
 * Disco packets take their own queue and may earn the sender a PeerGone(NotHere).
 */
public final class DiscoPacket
{
    /** {@code 54 53 F0 9F 92 AC}. */
    private static final byte[] MAGIC = {0x54, 0x53, (byte)0xF0, (byte)0x9F, (byte)0x92, (byte)0xAC};
    /** Magic + disco key + nonce. */
    public static final int MIN_LENGTH = MAGIC.length + 32 + 24;

    private DiscoPacket()
    {
    }

    /**
     * @param buffer holding the packet.
     * @param offset of the packet's first byte.
     * @param length of the packet.
     * @return true if the packet looks like disco.
     */
    public static boolean isDisco(final DirectBuffer buffer, final int offset, final int length)
    {
        if (length < MIN_LENGTH)
        {
            return false;
        }
        for (int i = 0; i < MAGIC.length; i++)
        {
            if (buffer.getByte(offset + i) != MAGIC[i])
            {
                return false;
            }
        }
        return true;
    }
}
