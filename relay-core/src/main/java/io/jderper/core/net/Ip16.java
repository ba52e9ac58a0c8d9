package io.jderper.core.net;

import java.net.Inet4Address;
import java.net.InetAddress;

/**
 * The 16-byte form of an IP address that derper uses on the wire (PeerPresent, spec §2) and for per-address choices:
 * an IPv6 address as it is, an IPv4 address mapped into IPv6 ({@code ::ffff:a.b.c.d}), as Go's
 * {@code netip.Addr.As16}.
 */
public final class Ip16
{
    /** Bytes in the form. */
    public static final int LENGTH = 16;

    private Ip16()
    {
    }

    /**
     * @param address an IPv4 or IPv6 address.
     * @return a new array of {@value #LENGTH} bytes.
     */
    public static byte[] of(final InetAddress address)
    {
        final byte[] raw = address.getAddress();
        final byte[] out = new byte[LENGTH];
        if (address instanceof Inet4Address)
        {
            out[10] = (byte)0xFF;
            out[11] = (byte)0xFF;
            System.arraycopy(raw, 0, out, 12, 4);
        }
        else
        {
            System.arraycopy(raw, 0, out, 0, LENGTH);
        }
        return out;
    }
}
