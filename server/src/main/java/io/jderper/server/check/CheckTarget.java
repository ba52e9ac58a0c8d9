package io.jderper.server.check;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;

import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * One DERP node to check, from a URL or from a DERP map file.
 *
 * @param label     how the node is named in the output.
 * @param url       its DERP URL ({@code https://host:port/derp}).
 * @param certName  the map's {@code CertName} pin, if any.
 * @param stunHost  where to send the STUN request: the node's IPv4, else its host name.
 * @param stunPort  the STUN port, or -1 to leave STUN out.
 * @param stunOnly  the node serves STUN only (no DERP).
 */
record CheckTarget(String label, URI url, Optional<String> certName, String stunHost, int stunPort, boolean stunOnly)
{
    /** STUN port clients use when a map says 0. */
    static final int DEFAULT_STUN_PORT = 3478;
    private static final long MAX_MAP_BYTES = 4 << 20;

    /**
     * @param text     {@code https://host[:port][/derp]}, {@code http://...} or {@code host[:port]}.
     * @param certName a pin given on the command line.
     * @param stunPort the STUN port to try, -1 for none.
     * @return the target.
     * @throws IllegalArgumentException if the text is not a usable URL.
     */
    static CheckTarget fromUrl(final String text, final Optional<String> certName, final int stunPort)
    {
        final String withScheme = text.contains("://") ? text : "https://" + text;
        final URI parsed;
        try
        {
            parsed = new URI(withScheme);
        }
        catch (final URISyntaxException ex)
        {
            throw new IllegalArgumentException("not a URL: " + text + " (" + ex.getReason() + ")");
        }
        final String scheme = null == parsed.getScheme() ? "" : parsed.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("https") && !scheme.equals("http") || null == parsed.getHost())
        {
            throw new IllegalArgumentException("want https://host[:port]/derp, got " + text);
        }
        final String path = null == parsed.getPath() || parsed.getPath().isEmpty() ? "/derp" : parsed.getPath();
        final URI url = URI.create(scheme + "://" + parsed.getRawAuthority() + path);
        final String host = parsed.getHost().startsWith("[") ?
            parsed.getHost().substring(1, parsed.getHost().length() - 1) : parsed.getHost();
        return new CheckTarget(url.toString(), url, certName, host, stunPort, false);
    }

    /**
     * Every node of a DERP map file: Tailscale's JSON (keys in any case, as Go decodes them) or Headscale's YAML.
     *
     * @param file the map.
     * @return its nodes, region by region.
     * @throws IOException if the file cannot be read or is not a DERP map.
     */
    static List<CheckTarget> fromMapFile(final Path file) throws IOException
    {
        if (Files.size(file) > MAX_MAP_BYTES)
        {
            throw new IOException(file + " is larger than " + MAX_MAP_BYTES + " bytes: not a DERP map");
        }
        final String text = Files.readString(file);
        final JsonNode root;
        try
        {
            root = text.stripLeading().startsWith("{") ? new ObjectMapper().readTree(text) :
                new YAMLMapper().readTree(text);
        }
        catch (final IOException ex)
        {
            throw new IOException(file + ": neither a JSON nor a YAML DERP map: " + ex.getMessage(), ex);
        }
        if (null == root || !root.isObject())
        {
            throw new IOException(file + ": not a DERP map (want an object with \"Regions\")");
        }
        final JsonNode regions = field(root, "regions");
        if (null == regions || !regions.isObject() || regions.isEmpty())
        {
            throw new IOException(file + ": no \"Regions\" in this DERP map");
        }
        final List<CheckTarget> targets = new ArrayList<>();
        for (final Iterator<Map.Entry<String, JsonNode>> it = regions.fields(); it.hasNext(); )
        {
            final Map.Entry<String, JsonNode> region = it.next();
            final JsonNode nodes = field(region.getValue(), "nodes");
            if (null == nodes || !nodes.isArray())
            {
                continue;
            }
            for (final JsonNode node : nodes)
            {
                targets.add(fromNode(file, region.getKey(), node));
            }
        }
        if (targets.isEmpty())
        {
            throw new IOException(file + ": the DERP map has no nodes");
        }
        return targets;
    }

    private static CheckTarget fromNode(final Path file, final String regionId, final JsonNode node) throws IOException
    {
        final String name = text(node, "name").orElse("?");
        final String hostName = text(node, "hostname").orElseThrow(() ->
            new IOException(file + ": node " + name + " of region " + regionId + " has no HostName"));
        final int derpPort = number(node, "derpport", 0);
        final int mapStunPort = number(node, "stunport", 0);
        if (derpPort < 0 || derpPort > 65535 || mapStunPort > 65535)
        {
            throw new IOException(file + ": node " + name + " of region " + regionId + " has a port out of range " +
                "(DERPPort " + derpPort + ", STUNPort " + mapStunPort + ")");
        }
        final URI url;
        try
        {
            url = new URI("https://" + (hostName.contains(":") ? "[" + hostName + "]" : hostName) +
                (0 == derpPort || 443 == derpPort ? "" : ":" + derpPort) + "/derp");
        }
        catch (final URISyntaxException ex)
        {
            throw new IOException(file + ": node " + name + " of region " + regionId + " has a HostName that is " +
                "not a host: " + ex.getMessage(), ex);
        }
        if (null == url.getHost())
        {
            throw new IOException(file + ": node " + name + " of region " + regionId + " has a HostName that is " +
                "not a host: \"" + hostName + "\"");
        }
        final Optional<String> stunTestIp = text(node, "stuntestip");
        final Optional<String> ipv4 = text(node, "ipv4").filter(ip -> !ip.equals("none"));
        final String stunHost = stunTestIp.or(() -> ipv4).orElse(hostName);
        return new CheckTarget("node " + name + " (region " + regionId + ") " + url, url,
            text(node, "certname").filter(pin -> pin.startsWith("sha256-raw:")), stunHost,
            mapStunPort < 0 ? -1 : 0 == mapStunPort ? DEFAULT_STUN_PORT : mapStunPort,
            Optional.ofNullable(field(node, "stunonly")).map(value -> value.asBoolean(false)).orElse(false));
    }

    /** Go decodes JSON keys without regard to case; Headscale's YAML keys are lower case. */
    private static JsonNode field(final JsonNode object, final String lowerName)
    {
        final String name = fieldName(object, lowerName);
        return null == name ? null : object.get(name);
    }

    private static String fieldName(final JsonNode object, final String lowerName)
    {
        for (final Iterator<String> names = object.fieldNames(); names.hasNext(); )
        {
            final String name = names.next();
            if (name.toLowerCase(Locale.ROOT).equals(lowerName))
            {
                return name;
            }
        }
        return null;
    }

    private static Optional<String> text(final JsonNode object, final String lowerName)
    {
        final JsonNode value = field(object, lowerName);
        return null == value || !value.isValueNode() || value.asText().isEmpty() ?
            Optional.empty() : Optional.of(value.asText());
    }

    private static int number(final JsonNode object, final String lowerName, final int fallback)
    {
        final JsonNode value = field(object, lowerName);
        return null == value || !value.canConvertToInt() ? fallback : value.asInt();
    }
}
