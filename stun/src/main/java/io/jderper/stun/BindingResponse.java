package io.jderper.stun;

import org.agrona.DirectBuffer;

import java.nio.ByteOrder;

import static io.jderper.stun.StunMessages.ATTRIBUTE_MAPPED_ADDRESS;
import static io.jderper.stun.StunMessages.ATTRIBUTE_XOR_MAPPED_ADDRESS;
import static io.jderper.stun.StunMessages.ATTRIBUTE_XOR_MAPPED_ADDRESS_OLD;
import static io.jderper.stun.StunMessages.BINDING_SUCCESS;
import static io.jderper.stun.StunMessages.FAMILY_IPV4;
import static io.jderper.stun.StunMessages.FAMILY_IPV6;
import static io.jderper.stun.StunMessages.HEADER_LENGTH;
import static io.jderper.stun.StunMessages.MAGIC_COOKIE;
import static io.jderper.stun.StunMessages.TRANSACTION_ID_OFFSET;

/**
 * A flyweight over a Binding Success Response, read as Tailscale's client reads one (spec §6.3): type 0x0101, the
 * message trimmed to its header's length, XOR-MAPPED-ADDRESS (0x0020 or 0x8020) preferred, else MAPPED-ADDRESS.
 * One instance is reused for every datagram; it holds no copy of the bytes.
 */
public final class BindingResponse
{
    private static final ByteOrder NETWORK = ByteOrder.BIG_ENDIAN;

    private DirectBuffer buffer;
    private int offset;
    private int addressOffset;
    private int addressLength;
    private int port;
    private boolean xored;

    /**
     * Points this flyweight at a datagram.
     *
     * @param buffer holds the datagram.
     * @param offset where it starts.
     * @param length its length.
     * @return true if it is a Binding Success Response with a mapped address of a known family; the accessors are
     *     valid only then.
     */
    public boolean wrap(final DirectBuffer buffer, final int offset, final int length)
    {
        this.buffer = buffer;
        this.offset = offset;
        addressLength = 0;
        if (!StunMessages.isStunHeader(buffer, offset, length) ||
            (buffer.getShort(offset, NETWORK) & 0xFFFF) != BINDING_SUCCESS)
        {
            return false;
        }
        final int declared = buffer.getShort(offset + 2, NETWORK) & 0xFFFF;
        if (length - HEADER_LENGTH < declared)
        {
            return false;
        }
        final int end = offset + HEADER_LENGTH + declared;
        int plainOffset = -1;
        int position = offset + HEADER_LENGTH;
        while (end - position >= 4)
        {
            final int type = buffer.getShort(position, NETWORK) & 0xFFFF;
            final int valueLength = buffer.getShort(position + 2, NETWORK) & 0xFFFF;
            final int value = position + 4;
            if (end - value < valueLength)
            {
                return false;
            }
            if (ATTRIBUTE_XOR_MAPPED_ADDRESS == type || ATTRIBUTE_XOR_MAPPED_ADDRESS_OLD == type)
            {
                return address(value, valueLength, true);
            }
            if (ATTRIBUTE_MAPPED_ADDRESS == type && plainOffset < 0)
            {
                plainOffset = position;
            }
            position = value + ((valueLength + 3) & ~3);
        }
        return plainOffset >= 0 &&
            address(plainOffset + 4, buffer.getShort(plainOffset + 2, NETWORK) & 0xFFFF, false);
    }

    private boolean address(final int value, final int valueLength, final boolean xor)
    {
        if (valueLength < 4)
        {
            return false;
        }
        final int family = buffer.getByte(value + 1) & 0xFF;
        final int length = FAMILY_IPV4 == family ? 4 : FAMILY_IPV6 == family ? 16 : -1;
        if (length < 0 || valueLength < 4 + length)
        {
            return false;
        }
        final int rawPort = buffer.getShort(value + 2, NETWORK) & 0xFFFF;
        port = xor ? rawPort ^ (MAGIC_COOKIE >>> 16) : rawPort;
        addressOffset = value + 4;
        addressLength = length;
        xored = xor;
        return true;
    }

    /**
     * @return 4 for an IPv4 address, 16 for IPv6.
     */
    public int addressLength()
    {
        return addressLength;
    }

    /**
     * @param i 0 to {@link #addressLength()} - 1.
     * @return byte {@code i} of the mapped address, un-XORed.
     */
    public byte addressByte(final int i)
    {
        final byte raw = buffer.getByte(addressOffset + i);
        return xored ? (byte)(raw ^ StunMessages.xorKeyByte(buffer, offset, i)) : raw;
    }

    /**
     * @return the mapped port.
     */
    public int port()
    {
        return port;
    }

    /**
     * @param address 4 or 16 bytes.
     * @param port    a port.
     * @return whether the mapped address is this one (an IPv4-mapped IPv6 answer matches its IPv4 address).
     */
    public boolean isAddress(final byte[] address, final int port)
    {
        if (port != this.port)
        {
            return false;
        }
        // derper's dual-stack socket answers IPv4 senders with the IPv4-mapped IPv6 form; Tailscale un-maps it.
        final int skip = 4 == address.length && isIpv4Mapped() ? 12 : 0;
        if (address.length != addressLength - skip)
        {
            return false;
        }
        for (int i = 0; i < address.length; i++)
        {
            if (address[i] != addressByte(skip + i))
            {
                return false;
            }
        }
        return true;
    }

    private boolean isIpv4Mapped()
    {
        if (16 != addressLength)
        {
            return false;
        }
        for (int i = 0; i < 10; i++)
        {
            if (0 != addressByte(i))
            {
                return false;
            }
        }
        return (byte)0xFF == addressByte(10) && (byte)0xFF == addressByte(11);
    }

    /**
     * @return the buffer the transaction ID is in, at {@link #transactionIdOffset()}.
     */
    public DirectBuffer buffer()
    {
        return buffer;
    }

    /**
     * @return where the 12-byte transaction ID starts in {@link #buffer()}.
     */
    public int transactionIdOffset()
    {
        return offset + TRANSACTION_ID_OFFSET;
    }
}
