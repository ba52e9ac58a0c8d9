package io.jderper.tls;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Locale;
import java.util.Optional;

/**
 * Reads the SNI host name and whether {@code acme-tls/1} is offered from the first TLS record of a connection, before
 * any TLS engine sees it: an ACME CA validating tls-alpn-01 (RFC 8737) must get the challenge certificate, every
 * other client the normal one.
 *
 * @param serverName   the SNI host name in lower case, or empty.
 * @param offersAcmeTls whether the ALPN list holds {@code acme-tls/1}.
 */
public record ClientHelloPeek(Optional<String> serverName, boolean offersAcmeTls)
{
    /** The ALPN protocol of tls-alpn-01. */
    public static final String ACME_TLS_1 = "acme-tls/1";
    /** A TLS record is at most 2^14 bytes of plaintext plus its 5-byte header. */
    public static final int MAX_RECORD = 5 + (1 << 14);

    private static final int HANDSHAKE = 0x16;
    private static final int CLIENT_HELLO = 1;
    private static final int SERVER_NAME = 0;
    private static final int ALPN = 16;

    /**
     * @param bytes the connection's first bytes, from the start of the record.
     * @return the length the first record needs, or -1 if the bytes are not a TLS handshake record.
     */
    public static int recordLength(final ByteBuffer bytes)
    {
        if (bytes.remaining() < 5)
        {
            return 5;
        }
        final int at = bytes.position();
        if ((bytes.get(at) & 0xFF) != HANDSHAKE)
        {
            return -1;
        }
        return 5 + (bytes.getShort(at + 3) & 0xFFFF);
    }

    /**
     * @param record the first record, whole ({@link #recordLength} bytes).
     * @return what it says, or empty if it is not a ClientHello that fits in it (then the TLS engine decides).
     */
    public static Optional<ClientHelloPeek> parse(final ByteBuffer record)
    {
        try
        {
            final ByteBuffer in = record.slice();
            in.position(5);
            if ((in.get() & 0xFF) != CLIENT_HELLO)
            {
                return Optional.empty();
            }
            final int length = (in.get() & 0xFF) << 16 | (in.getShort() & 0xFFFF);
            if (length > in.remaining())
            {
                return Optional.empty();
            }
            in.position(in.position() + 2 + 32);
            skip(in, in.get() & 0xFF);
            skip(in, in.getShort() & 0xFFFF);
            skip(in, in.get() & 0xFF);
            if (!in.hasRemaining())
            {
                return Optional.of(new ClientHelloPeek(Optional.empty(), false));
            }
            final int extensionsEnd = (in.getShort() & 0xFFFF) + in.position();
            Optional<String> serverName = Optional.empty();
            boolean acmeTls = false;
            while (in.position() + 4 <= extensionsEnd)
            {
                final int type = in.getShort() & 0xFFFF;
                final int size = in.getShort() & 0xFFFF;
                final int end = in.position() + size;
                if (SERVER_NAME == type && size >= 5)
                {
                    in.getShort();
                    if (0 == in.get())
                    {
                        final byte[] name = new byte[in.getShort() & 0xFFFF];
                        in.get(name);
                        serverName = Optional.of(new String(name, StandardCharsets.US_ASCII).toLowerCase(Locale.ROOT));
                    }
                }
                else if (ALPN == type && size >= 2)
                {
                    final int listEnd = (in.getShort() & 0xFFFF) + in.position();
                    while (in.position() < listEnd)
                    {
                        final byte[] protocol = new byte[in.get() & 0xFF];
                        in.get(protocol);
                        acmeTls |= ACME_TLS_1.equals(new String(protocol, StandardCharsets.US_ASCII));
                    }
                }
                in.position(end);
            }
            return Optional.of(new ClientHelloPeek(serverName, acmeTls));
        }
        catch (final RuntimeException ex)
        {
            // Truncated or malformed: the TLS engine will say so to the client.
            return Optional.empty();
        }
    }

    private static void skip(final ByteBuffer in, final int bytes)
    {
        in.position(in.position() + bytes);
    }
}
