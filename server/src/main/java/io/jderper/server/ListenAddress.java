package io.jderper.server;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;

/**
 * Go-style listen addresses ({@code :443}, {@code 127.0.0.1:3340}, {@code [::1]:443}, {@code host:port}).
 */
public final class ListenAddress
{
    private ListenAddress()
    {
    }

    /**
     * @param text the {@code -a} value.
     * @return the socket address; an empty host means every local address.
     * @throws IllegalArgumentException if the text is not host:port with a valid port.
     */
    public static InetSocketAddress parse(final String text)
    {
        final int colon = text.lastIndexOf(':');
        if (colon < 0)
        {
            throw new IllegalArgumentException("listen address \"" + text + "\" has no port (want host:port or :port)");
        }
        String host = text.substring(0, colon);
        final String portText = text.substring(colon + 1);
        final int port;
        try
        {
            // Go resolves service names here; derper users write ":https" for 443.
            port = switch (portText)
            {
                case "https" -> 443;
                case "http" -> 80;
                default -> Integer.parseInt(portText);
            };
        }
        catch (final NumberFormatException ex)
        {
            throw new IllegalArgumentException("listen address \"" + text + "\": bad port \"" + portText + "\"");
        }
        if (port < 0 || port > 65535)
        {
            throw new IllegalArgumentException("listen address \"" + text + "\": port out of range");
        }
        if (host.startsWith("[") && host.endsWith("]"))
        {
            host = host.substring(1, host.length() - 1);
        }
        else if (host.contains(":"))
        {
            throw new IllegalArgumentException("listen address \"" + text + "\": IPv6 hosts need brackets");
        }
        if (host.isEmpty())
        {
            return new InetSocketAddress(port);
        }
        try
        {
            return new InetSocketAddress(InetAddress.getByName(host), port);
        }
        catch (final UnknownHostException ex)
        {
            throw new IllegalArgumentException("listen address \"" + text + "\": unknown host " + host);
        }
    }
}
