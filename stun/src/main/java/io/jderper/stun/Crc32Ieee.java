package io.jderper.stun;

import org.agrona.DirectBuffer;

/**
 * CRC-32 (IEEE 802.3, the polynomial of {@code java.util.zip.CRC32}) over a range of any {@link DirectBuffer}, heap or
 * off-heap, without allocating: {@code java.util.zip.CRC32} needs a {@code byte[]} or a {@code ByteBuffer} view, and
 * the STUN FINGERPRINT covers at most a few dozen bytes per datagram, where a table lookup per byte is cheap.
 */
final class Crc32Ieee
{
    private static final int[] TABLE = new int[256];

    static
    {
        for (int n = 0; n < 256; n++)
        {
            int c = n;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? 0xEDB88320 ^ (c >>> 1) : c >>> 1;
            }
            TABLE[n] = c;
        }
    }

    private Crc32Ieee()
    {
    }

    /**
     * @param buffer holds the bytes.
     * @param offset where they start.
     * @param length how many.
     * @return their CRC-32, as {@code java.util.zip.CRC32} computes it.
     */
    static int of(final DirectBuffer buffer, final int offset, final int length)
    {
        int crc = 0xFFFFFFFF;
        for (int i = offset, end = offset + length; i < end; i++)
        {
            crc = TABLE[(crc ^ buffer.getByte(i)) & 0xFF] ^ (crc >>> 8);
        }
        return ~crc;
    }
}
