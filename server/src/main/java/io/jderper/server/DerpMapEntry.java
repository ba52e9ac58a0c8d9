package io.jderper.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.net.InetAddress;
import java.util.Optional;

/**
 * The DERP map node entry (spec §7.1) a client needs to reach this server, printed at start so nobody has to
 * write it by hand.
 */
public final class DerpMapEntry
{
    private static final ObjectMapper JSON = new ObjectMapper();
    /** Region id for self-hosted DERPs: 900–999 are reserved for users. */
    public static final int REGION_ID = 900;

    private DerpMapEntry()
    {
    }

    /**
     * @param hostname  the TLS hostname (DNS name or IP literal).
     * @param port      the DERP (TLS) port.
     * @param certName  a {@code sha256-raw:} pin, if the certificate is self-signed.
     * @param stunPort  the STUN port, or -1 if no STUN runs.
     * @return the DERPNode JSON.
     */
    public static ObjectNode node(final String hostname, final int port, final Optional<String> certName,
        final int stunPort)
    {
        final ObjectNode node = JSON.createObjectNode();
        node.put("Name", REGION_ID + "a");
        node.put("RegionID", REGION_ID);
        node.put("HostName", hostname);
        certName.ifPresent(pin -> node.put("CertName", pin));
        ipLiteral(hostname).ifPresent(ip -> node.put(ip.getAddress().length == 4 ? "IPv4" : "IPv6",
            ip.getHostAddress()));
        node.put("STUNPort", stunPort);
        if (443 != port)
        {
            node.put("DERPPort", port);
        }
        return node;
    }

    /**
     * @param node a node from {@link #node}.
     * @return a one-region DERP map holding it.
     */
    public static ObjectNode map(final ObjectNode node)
    {
        final ObjectNode map = JSON.createObjectNode();
        final ObjectNode region = map.putObject("Regions").putObject(String.valueOf(REGION_ID));
        region.put("RegionID", REGION_ID);
        region.put("RegionCode", "jderper");
        region.put("RegionName", "jderper");
        region.putArray("Nodes").add(node);
        return map;
    }

    private static Optional<InetAddress> ipLiteral(final String hostname)
    {
        final String bare = hostname.startsWith("[") && hostname.endsWith("]") ?
            hostname.substring(1, hostname.length() - 1) : hostname;
        if (!bare.matches("[0-9.]+") && !bare.contains(":"))
        {
            return Optional.empty();
        }
        try
        {
            return Optional.of(InetAddress.getByName(bare));
        }
        catch (final java.net.UnknownHostException ex)
        {
            return Optional.empty();
        }
    }
}
