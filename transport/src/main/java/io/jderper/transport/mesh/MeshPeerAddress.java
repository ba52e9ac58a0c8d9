package io.jderper.transport.mesh;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.ArrayList;
import java.util.List;

/**
 * One entry of derper's {@code -mesh-with}: {@code host[:port]} dialled as {@code https://host[:port]/derp}, or
 * {@code host[:port]/dialhost}, where the TCP connection goes to {@code dialhost} (same port) while the certificate
 * is still checked against {@code host}.
 *
 * @param name     the entry's {@code host[:port]}, as given: the URL authority and the name in logs.
 * @param dialHost where to dial instead, or null to dial {@code name}'s host.
 */
public record MeshPeerAddress(String name, String dialHost)
{
    /**
     * @param tuple one entry.
     * @return the address.
     * @throws IllegalArgumentException naming what is wrong with the entry.
     */
    public static MeshPeerAddress parse(final String tuple)
    {
        final String[] parts = tuple.split("/", -1);
        if (parts.length > 2)
        {
            throw new IllegalArgumentException("too many components in host tuple \"" + tuple + "\"");
        }
        final String name = parts[0].trim();
        final String dialHost = 2 == parts.length ? parts[1].trim() : null;
        if (name.isEmpty() || (null != dialHost && dialHost.isEmpty()))
        {
            throw new IllegalArgumentException("empty host in mesh entry \"" + tuple + "\"");
        }
        final MeshPeerAddress address = new MeshPeerAddress(name, dialHost);
        address.url();
        return address;
    }

    /**
     * @param list derper's comma-separated {@code -mesh-with} value; empty entries (a trailing comma) are skipped.
     * @return the addresses in order.
     * @throws IllegalArgumentException naming the first bad entry.
     */
    public static List<MeshPeerAddress> parseList(final String list)
    {
        final List<MeshPeerAddress> addresses = new ArrayList<>();
        for (final String tuple : list.split(","))
        {
            if (!tuple.isBlank())
            {
                addresses.add(parse(tuple.trim()));
            }
        }
        return addresses;
    }

    /**
     * @return {@code https://name/derp}.
     * @throws IllegalArgumentException if the name does not make a URL with a host.
     */
    public URI url()
    {
        try
        {
            final URI url = new URI("https://" + name + "/derp");
            if (null == url.getHost())
            {
                throw new IllegalArgumentException("mesh entry \"" + name + "\" is not host[:port]");
            }
            return url;
        }
        catch (final URISyntaxException ex)
        {
            throw new IllegalArgumentException("mesh entry \"" + name + "\" is not host[:port]: " +
                ex.getMessage(), ex);
        }
    }

    /**
     * @return what is dialled, for logs: the dial host and port, or the name.
     */
    public String dialTarget()
    {
        if (null == dialHost)
        {
            return name;
        }
        final int port = url().getPort();
        final String host = dialHost.indexOf(':') >= 0 ? "[" + dialHost + "]" : dialHost;
        return host + ":" + (-1 == port ? 443 : port);
    }

    /**
     * @return the peer in logs: the name, and where it is dialled when that differs, because several peers may share
     *     one public name and be told apart only by their dial hosts (a Kubernetes StatefulSet, say).
     */
    public String label()
    {
        return null == dialHost ? name : name + " via " + dialTarget();
    }
}
