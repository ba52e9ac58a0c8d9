package io.jderper.server;

import com.fasterxml.jackson.core.io.JsonStringEncoder;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.jderper.tls.Hostnames;

import java.net.InetAddress;
import java.util.Optional;

/**
 * This server as a one-node DERP region, in the forms people paste (spec §7): Tailscale's DERPNode and DERPMap JSON
 * (a Tailscale ACL {@code derpMap}, Headscale's {@code derp.urls}) and Headscale's YAML ({@code derp.paths}), so
 * nobody has to write a DERP map by hand.
 *
 * @param regionId   the region's ID; 900 to 999 are reserved for users' own DERPs.
 * @param regionCode short region code.
 * @param regionName long region name.
 * @param hostname   the TLS hostname (DNS name or IP literal).
 * @param ipv4       the public IPv4 address, if known (an IPv4 hostname is its own).
 * @param ipv6       the public IPv6 address, if known.
 * @param derpPort   the DERP (TLS) port.
 * @param stunPort   the STUN port, or -1 if no STUN runs.
 * @param certName   a {@code sha256-raw:} pin, if the certificate is self-signed.
 */
public record DerpMapEntry(
    int regionId,
    String regionCode,
    String regionName,
    String hostname,
    Optional<String> ipv4,
    Optional<String> ipv6,
    int derpPort,
    int stunPort,
    Optional<String> certName)
{
    /** Default region ID: the first of the IDs reserved for users' own DERPs. */
    public static final int REGION_ID = 900;
    /** Default region code and name. */
    public static final String REGION_CODE = "jderper";
    /** Largest region ID a DERP map may hold (2^53 - 1, JSON's exact integers). */
    public static final long MAX_REGION_ID = (1L << 53) - 1;

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Validates the entry.
     */
    public DerpMapEntry
    {
        if (regionId <= 0)
        {
            throw new IllegalArgumentException("region ID must be positive, got " + regionId);
        }
        if (derpPort <= 0 || derpPort > 65535)
        {
            throw new IllegalArgumentException("DERP port " + derpPort + " out of range");
        }
        if (stunPort < -1 || stunPort > 65535)
        {
            throw new IllegalArgumentException("STUN port " + stunPort + " out of range");
        }
    }

    /**
     * An entry in region {@value #REGION_ID} with the addresses an IP-literal hostname gives.
     *
     * @param hostname the TLS hostname.
     * @param derpPort the DERP port.
     * @param certName the pin, if any.
     * @param stunPort the STUN port, or -1.
     * @return the entry.
     */
    public static DerpMapEntry of(final String hostname, final int derpPort, final Optional<String> certName,
        final int stunPort)
    {
        return new DerpMapEntry(REGION_ID, REGION_CODE, REGION_CODE, hostname, Optional.empty(), Optional.empty(),
            derpPort, stunPort, certName);
    }

    /**
     * The entry for a server started with these options.
     *
     * @param options  the command line.
     * @param derpPort the port the main listener is bound to.
     * @param stunPort the STUN port, or -1 if no STUN runs.
     * @param certName the pin of a self-signed IP certificate, if that is what is served.
     * @return the entry.
     */
    public static DerpMapEntry forServer(final io.jderper.server.cli.DerperOptions options, final int derpPort,
        final int stunPort, final Optional<String> certName)
    {
        return new DerpMapEntry(options.regionId(), options.regionCode(), options.regionName(), options.hostname(),
            options.publicIpv4(), options.publicIpv6(), derpPort, stunPort, certName);
    }

    /**
     * @return the DERPNode JSON (tailcfg field names).
     */
    public ObjectNode node()
    {
        final ObjectNode node = JSON.createObjectNode();
        node.put("Name", nodeName());
        node.put("RegionID", regionId);
        node.put("HostName", hostname);
        certName.ifPresent(pin -> node.put("CertName", pin));
        address(4).ifPresent(ip -> node.put("IPv4", ip));
        address(16).ifPresent(ip -> node.put("IPv6", ip));
        node.put("STUNPort", stunPort);
        if (443 != derpPort)
        {
            node.put("DERPPort", derpPort);
        }
        return node;
    }

    /**
     * @return a DERPMap JSON holding this one region and node.
     */
    public ObjectNode map()
    {
        final ObjectNode map = JSON.createObjectNode();
        final ObjectNode region = map.putObject("Regions").putObject(String.valueOf(regionId));
        region.put("RegionID", regionId);
        region.put("RegionCode", regionCode);
        region.put("RegionName", regionName);
        region.putArray("Nodes").add(node());
        return map;
    }

    /**
     * The same map as Headscale reads a {@code derp.paths} file: YAML decoded into the same Go structs without YAML
     * tags, so every key is the Go field name in lower case (spec §7.2). Strings are written double-quoted with JSON
     * escapes, which YAML reads as the same strings, so no value can be misread as a number, boolean or null.
     *
     * @return the YAML document.
     */
    public String headscaleYaml()
    {
        final StringBuilder yaml = new StringBuilder();
        yaml.append("regions:\n");
        yaml.append("  ").append(regionId).append(":\n");
        yaml.append("    regionid: ").append(regionId).append('\n');
        yaml.append("    regioncode: ").append(quoted(regionCode)).append('\n');
        yaml.append("    regionname: ").append(quoted(regionName)).append('\n');
        yaml.append("    nodes:\n");
        yaml.append("      - name: ").append(quoted(nodeName())).append('\n');
        yaml.append("        regionid: ").append(regionId).append('\n');
        yaml.append("        hostname: ").append(quoted(hostname)).append('\n');
        certName.ifPresent(pin -> yaml.append("        certname: ").append(quoted(pin)).append('\n'));
        address(4).ifPresent(ip -> yaml.append("        ipv4: ").append(quoted(ip)).append('\n'));
        address(16).ifPresent(ip -> yaml.append("        ipv6: ").append(quoted(ip)).append('\n'));
        yaml.append("        stunport: ").append(stunPort).append('\n');
        yaml.append("        derpport: ").append(443 == derpPort ? 0 : derpPort).append('\n');
        return yaml.toString();
    }

    private String nodeName()
    {
        return regionId + "a";
    }

    /**
     * The configured address of one family, else the hostname's if it is an IP literal of that family.
     */
    private Optional<String> address(final int length)
    {
        final Optional<String> configured = 4 == length ? ipv4 : ipv6;
        if (configured.isPresent())
        {
            return configured;
        }
        final InetAddress literal = Hostnames.parseIpLiteral(hostname);
        // The operator's own spelling of the address, without URL brackets.
        return null != literal && literal.getAddress().length == length ?
            Optional.of(hostname.replace("[", "").replace("]", "")) : Optional.empty();
    }

    private static String quoted(final String text)
    {
        return '"' + new String(JsonStringEncoder.getInstance().quoteAsString(text)) + '"';
    }
}
