package io.jderper.stun;

import org.agrona.DirectBuffer;
import org.agrona.MutableDirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.ByteOrder;

/**
 * STUN binding messages (RFC 5389) in the one form Tailscale uses (spec §6): the 40-byte request its clients send, the
 * check derper applies before answering, and the one-attribute success response derper writes. Static methods over
 * caller-owned buffers, in the style of the DERP frame codec: nothing is allocated.
 */
public final class StunMessages
{
    /** Bytes of every STUN header: type, length, magic cookie, transaction ID. */
    public static final int HEADER_LENGTH = 20;
    /** The RFC 5389 magic cookie, bytes 4 to 7 of every message. */
    public static final int MAGIC_COOKIE = 0x2112A442;
    /** Offset of the transaction ID. */
    public static final int TRANSACTION_ID_OFFSET = 8;
    /** Bytes of a transaction ID. */
    public static final int TRANSACTION_ID_LENGTH = 12;

    /** Message type of a Binding Request. */
    public static final int BINDING_REQUEST = 0x0001;
    /** Message type of a Binding Success Response. */
    public static final int BINDING_SUCCESS = 0x0101;

    /** MAPPED-ADDRESS, the pre-RFC 5389 form some servers still send. */
    public static final int ATTRIBUTE_MAPPED_ADDRESS = 0x0001;
    /** XOR-MAPPED-ADDRESS. */
    public static final int ATTRIBUTE_XOR_MAPPED_ADDRESS = 0x0020;
    /** XOR-MAPPED-ADDRESS under the pre-standard number, which Tailscale's client also accepts. */
    public static final int ATTRIBUTE_XOR_MAPPED_ADDRESS_OLD = 0x8020;
    /** SOFTWARE. */
    public static final int ATTRIBUTE_SOFTWARE = 0x8022;
    /** FINGERPRINT: CRC-32 of everything before it, XOR {@link #FINGERPRINT_XOR}. */
    public static final int ATTRIBUTE_FINGERPRINT = 0x8028;
    /** "STUN" in ASCII, XORed into the fingerprint. */
    public static final int FINGERPRINT_XOR = 0x5354554E;

    /** Address family byte for IPv4. */
    public static final int FAMILY_IPV4 = 0x01;
    /** Address family byte for IPv6. */
    public static final int FAMILY_IPV6 = 0x02;

    /** Bytes of the request Tailscale sends: header, SOFTWARE "tailnode", FINGERPRINT (spec §6.2). */
    public static final int TAILSCALE_REQUEST_LENGTH = 40;
    /** Bytes of a success response for an IPv4 address (spec §6.3). */
    public static final int RESPONSE_LENGTH_IPV4 = 32;
    /** Bytes of a success response for an IPv6 address. */
    public static final int RESPONSE_LENGTH_IPV6 = 44;

    /** "tailnode", the SOFTWARE value derper requires, as a big-endian long. */
    static final long TAILNODE = 0x7461696C6E6F6465L;

    private static final ByteOrder NETWORK = ByteOrder.BIG_ENDIAN;
    private static final int ATTRIBUTE_HEADER_LENGTH = 4;

    private StunMessages()
    {
    }

    /**
     * Writes a Binding Request byte for byte as Tailscale's {@code stun.Request} does.
     *
     * @param buffer              where to write {@link #TAILSCALE_REQUEST_LENGTH} bytes.
     * @param offset              where they start.
     * @param transactionId       holds the 12-byte transaction ID.
     * @param transactionIdOffset where it starts.
     * @return {@link #TAILSCALE_REQUEST_LENGTH}.
     */
    public static int writeTailscaleRequest(
        final MutableDirectBuffer buffer, final int offset, final DirectBuffer transactionId,
        final int transactionIdOffset)
    {
        buffer.putShort(offset, (short)BINDING_REQUEST, NETWORK);
        buffer.putShort(offset + 2, (short)(TAILSCALE_REQUEST_LENGTH - HEADER_LENGTH), NETWORK);
        buffer.putInt(offset + 4, MAGIC_COOKIE, NETWORK);
        buffer.putBytes(offset + TRANSACTION_ID_OFFSET, transactionId, transactionIdOffset, TRANSACTION_ID_LENGTH);
        buffer.putShort(offset + 20, (short)ATTRIBUTE_SOFTWARE, NETWORK);
        buffer.putShort(offset + 22, (short)8, NETWORK);
        buffer.putLong(offset + 24, TAILNODE, NETWORK);
        buffer.putShort(offset + 32, (short)ATTRIBUTE_FINGERPRINT, NETWORK);
        buffer.putShort(offset + 34, (short)4, NETWORK);
        buffer.putInt(offset + 36, Crc32Ieee.of(buffer, offset, 32) ^ FINGERPRINT_XOR, NETWORK);
        return TAILSCALE_REQUEST_LENGTH;
    }

    /**
     * Whether a datagram is a binding request derper would answer (spec §6.1): a STUN header with the magic cookie,
     * type Binding Request, an attribute area (everything after the header; the length field is not consulted) of
     * whole attributes, one of them SOFTWARE {@code tailnode}, the last one a FINGERPRINT that matches.
     *
     * @param buffer holds the datagram.
     * @param offset where it starts.
     * @param length its length.
     * @return true if it should be answered.
     */
    public static boolean isTailscaleRequest(final DirectBuffer buffer, final int offset, final int length)
    {
        if (!isStunHeader(buffer, offset, length) ||
            (buffer.getShort(offset, NETWORK) & 0xFFFF) != BINDING_REQUEST)
        {
            return false;
        }
        final int end = offset + length;
        boolean tailnode = false;
        int lastType = -1;
        int lastValue = -1;
        int lastLength = -1;
        int position = offset + HEADER_LENGTH;
        while (position < end)
        {
            if (end - position < ATTRIBUTE_HEADER_LENGTH)
            {
                return false;
            }
            final int type = buffer.getShort(position, NETWORK) & 0xFFFF;
            final int valueLength = buffer.getShort(position + 2, NETWORK) & 0xFFFF;
            final int padded = (valueLength + 3) & ~3;
            final int value = position + ATTRIBUTE_HEADER_LENGTH;
            if (end - value < padded)
            {
                return false;
            }
            if (ATTRIBUTE_SOFTWARE == type && 8 == valueLength && TAILNODE == buffer.getLong(value, NETWORK))
            {
                tailnode = true;
            }
            lastType = type;
            lastValue = value;
            lastLength = valueLength;
            position = value + padded;
        }
        return tailnode && ATTRIBUTE_FINGERPRINT == lastType && 4 == lastLength &&
            buffer.getInt(lastValue, NETWORK) ==
                (Crc32Ieee.of(buffer, offset, lastValue - ATTRIBUTE_HEADER_LENGTH - offset) ^ FINGERPRINT_XOR);
    }

    /**
     * Whether a datagram is any well-formed RFC 5389 binding request, from any client: a STUN header with the magic
     * cookie, type Binding Request, a length field that matches the datagram and is a multiple of 4, whole
     * attributes up to the end, and, if a FINGERPRINT is present, it is the last attribute and matches. Only
     * {@code -stun-any-client} answers these; derper answers {@link #isTailscaleRequest} alone (spec §6.1).
     *
     * @param buffer holds the datagram.
     * @param offset where it starts.
     * @param length its length.
     * @return true if a generic STUN server would answer it.
     */
    public static boolean isBindingRequest(final DirectBuffer buffer, final int offset, final int length)
    {
        if (!isStunHeader(buffer, offset, length) ||
            (buffer.getShort(offset, NETWORK) & 0xFFFF) != BINDING_REQUEST)
        {
            return false;
        }
        final int declared = buffer.getShort(offset + 2, NETWORK) & 0xFFFF;
        if (declared != length - HEADER_LENGTH || (declared & 3) != 0)
        {
            return false;
        }
        final int end = offset + length;
        int position = offset + HEADER_LENGTH;
        while (position < end)
        {
            if (end - position < ATTRIBUTE_HEADER_LENGTH)
            {
                return false;
            }
            final int type = buffer.getShort(position, NETWORK) & 0xFFFF;
            final int valueLength = buffer.getShort(position + 2, NETWORK) & 0xFFFF;
            final int value = position + ATTRIBUTE_HEADER_LENGTH;
            final int next = value + ((valueLength + 3) & ~3);
            if (next > end)
            {
                return false;
            }
            if (ATTRIBUTE_FINGERPRINT == type)
            {
                return next == end && 4 == valueLength && buffer.getInt(value, NETWORK) ==
                    (Crc32Ieee.of(buffer, offset, position - offset) ^ FINGERPRINT_XOR);
            }
            position = next;
        }
        return true;
    }

    /**
     * Writes the success response derper sends: the header and one XOR-MAPPED-ADDRESS, nothing else (spec §6.3).
     *
     * @param buffer              where to write 32 (IPv4) or 44 (IPv6) bytes.
     * @param offset              where they start.
     * @param transactionId       holds the request's transaction ID.
     * @param transactionIdOffset where it starts.
     * @param address             the 4 or 16 address bytes the request came from.
     * @param port                the port it came from.
     * @return the response's length.
     * @throws IllegalArgumentException if the address is neither 4 nor 16 bytes or the port is out of range.
     */
    public static int writeSuccessResponse(
        final MutableDirectBuffer buffer, final int offset, final DirectBuffer transactionId,
        final int transactionIdOffset, final byte[] address, final int port)
    {
        return writeSuccessResponse(buffer, offset, transactionId, transactionIdOffset,
            new UnsafeBuffer(address), 0, address.length, port);
    }

    /**
     * Writes the success response derper sends, taking the address from a buffer (the server's receive path, which
     * must not allocate).
     *
     * @param buffer              where to write 32 (IPv4) or 44 (IPv6) bytes.
     * @param offset              where they start.
     * @param transactionId       holds the request's transaction ID.
     * @param transactionIdOffset where it starts.
     * @param address             holds the 4 or 16 address bytes the request came from.
     * @param addressOffset       where they start.
     * @param addressLength       4 or 16.
     * @param port                the port it came from.
     * @return the response's length.
     * @throws IllegalArgumentException if the address is neither 4 nor 16 bytes or the port is out of range.
     */
    public static int writeSuccessResponse(
        final MutableDirectBuffer buffer, final int offset, final DirectBuffer transactionId,
        final int transactionIdOffset, final DirectBuffer address, final int addressOffset, final int addressLength,
        final int port)
    {
        if (4 != addressLength && 16 != addressLength)
        {
            throw new IllegalArgumentException("address of " + addressLength + " bytes, want 4 or 16");
        }
        if (port < 0 || port > 0xFFFF)
        {
            throw new IllegalArgumentException("port " + port + " out of range");
        }
        final int valueLength = 4 + addressLength;
        buffer.putShort(offset, (short)BINDING_SUCCESS, NETWORK);
        buffer.putShort(offset + 2, (short)(ATTRIBUTE_HEADER_LENGTH + valueLength), NETWORK);
        buffer.putInt(offset + 4, MAGIC_COOKIE, NETWORK);
        buffer.putBytes(offset + TRANSACTION_ID_OFFSET, transactionId, transactionIdOffset, TRANSACTION_ID_LENGTH);
        final int attribute = offset + HEADER_LENGTH;
        buffer.putShort(attribute, (short)ATTRIBUTE_XOR_MAPPED_ADDRESS, NETWORK);
        buffer.putShort(attribute + 2, (short)valueLength, NETWORK);
        buffer.putByte(attribute + 4, (byte)0);
        buffer.putByte(attribute + 5, (byte)(4 == addressLength ? FAMILY_IPV4 : FAMILY_IPV6));
        buffer.putShort(attribute + 6, (short)(port ^ (MAGIC_COOKIE >>> 16)), NETWORK);
        final int addressAt = attribute + 8;
        for (int i = 0; i < addressLength; i++)
        {
            buffer.putByte(addressAt + i,
                (byte)(address.getByte(addressOffset + i) ^ xorKeyByte(buffer, offset, i)));
        }
        return HEADER_LENGTH + ATTRIBUTE_HEADER_LENGTH + valueLength;
    }

    /**
     * @return whether the datagram starts with a STUN header: 20 bytes or more, the top two bits zero, the cookie.
     */
    static boolean isStunHeader(final DirectBuffer buffer, final int offset, final int length)
    {
        return length >= HEADER_LENGTH && (buffer.getByte(offset) & 0xC0) == 0 &&
            buffer.getInt(offset + 4, NETWORK) == MAGIC_COOKIE;
    }

    /**
     * Byte {@code i} of the XOR key for mapped addresses: the cookie, then the transaction ID (RFC 5389 §15.2), both
     * read from the message's own header at {@code messageOffset}.
     */
    static byte xorKeyByte(final DirectBuffer message, final int messageOffset, final int i)
    {
        return message.getByte(messageOffset + 4 + i);
    }
}
