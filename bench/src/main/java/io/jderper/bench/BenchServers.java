package io.jderper.bench;

import io.jderper.core.key.NodePublicKey;
import io.jderper.core.protocol.ProtocolLimits;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;

/**
 * What the stand-alone servers of the benchmarks (the forwarder baseline, the virtual-thread relay) share: their
 * command-line parsing and the exact bytes of the DERP upgrade response.
 */
public final class BenchServers
{
    private BenchServers()
    {
    }

    /**
     * @param args the command line.
     * @param i    index of the value.
     * @param flag the flag it belongs to, for the error.
     * @return the flag's value.
     * @throws IllegalArgumentException if the command line ends first.
     */
    public static String flagValue(final String[] args, final int i, final String flag)
    {
        if (i >= args.length)
        {
            throw new IllegalArgumentException(flag + " needs a value");
        }
        return args[i];
    }

    /**
     * @param text {@code HOST:PORT}, {@code [V6]:PORT} or {@code :PORT} (every address).
     * @return the address.
     * @throws IllegalArgumentException if it is not one.
     */
    public static InetSocketAddress parseAddress(final String text)
    {
        final int colon = text.lastIndexOf(':');
        if (colon < 0)
        {
            throw new IllegalArgumentException("-a " + text + ": want HOST:PORT");
        }
        String host = text.substring(0, colon);
        if (host.startsWith("[") && host.endsWith("]"))
        {
            host = host.substring(1, host.length() - 1);
        }
        final int port;
        try
        {
            port = Integer.parseInt(text.substring(colon + 1));
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("-a " + text + ": the port is not a number", ex);
        }
        try
        {
            return host.isEmpty() ? new InetSocketAddress(port) : new InetSocketAddress(InetAddress.getByName(host), port);
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalArgumentException("-a " + text + ": " + ex.getMessage(), ex);
        }
    }

    /**
     * The 101 answer to {@code GET /derp} followed by the ServerKey frame, as jderper sends them in one write
     * (spec §1.3).
     *
     * @param serverKey      the server's public key.
     * @param serverKeyFrame the ServerKey frame.
     * @return the bytes.
     */
    public static byte[] upgradeResponse(final NodePublicKey serverKey, final byte[] serverKeyFrame)
    {
        final byte[] head = ("HTTP/1.1 101 Switching Protocols\r\n" +
            "Upgrade: DERP\r\n" +
            "Connection: Upgrade\r\n" +
            "Derp-Version: " + ProtocolLimits.PROTOCOL_VERSION + "\r\n" +
            "Derp-Public-Key: " + serverKey.toHex() + "\r\n" +
            "\r\n").getBytes(StandardCharsets.US_ASCII);
        final byte[] response = new byte[head.length + serverKeyFrame.length];
        System.arraycopy(head, 0, response, 0, head.length);
        System.arraycopy(serverKeyFrame, 0, response, head.length, serverKeyFrame.length);
        return response;
    }
}
