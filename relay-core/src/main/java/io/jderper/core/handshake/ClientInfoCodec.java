package io.jderper.core.handshake;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jderper.core.key.KeyHex;
import io.jderper.core.protocol.ProtocolException;
import io.jderper.core.protocol.Violation;

import java.io.IOException;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * Decodes ClientInfo JSON the way Go's decoder does: field names match case-insensitively, unknown
 * fields are ignored, and a meshKey that is not 64 hex characters fails the whole decode (spec §2.7).
 */
public final class ClientInfoCodec
{
    /** Trailing bytes after the object fail, as they do for Go's json.Unmarshal. */
    private static final ObjectMapper MAPPER =
        new ObjectMapper().enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS);

    private ClientInfoCodec()
    {
    }

    /**
     * @param json the opened ClientInfo box.
     * @return the decoded info.
     * @throws ProtocolException with {@link Violation#CLIENT_INFO_JSON} if the JSON is not a valid ClientInfo.
     */
    public static ClientInfo decode(final byte[] json)
    {
        final JsonNode root;
        try
        {
            root = MAPPER.readTree(json);
        }
        catch (final JsonProcessingException ex)
        {
            throw new ProtocolException(Violation.CLIENT_INFO_JSON, "ClientInfo is not JSON: " + ex.getOriginalMessage());
        }
        catch (final IOException ex)
        {
            throw new ProtocolException(Violation.CLIENT_INFO_JSON, "ClientInfo unreadable: " + ex.getMessage());
        }
        if (null == root || !root.isObject())
        {
            throw new ProtocolException(Violation.CLIENT_INFO_JSON, "ClientInfo is not a JSON object");
        }
        Optional<byte[]> meshKey = Optional.empty();
        int version = 0;
        boolean canAckPings = false;
        boolean isProber = false;
        String appName = "";
        final Iterator<Map.Entry<String, JsonNode>> fields = root.properties().iterator();
        while (fields.hasNext())
        {
            final Map.Entry<String, JsonNode> field = fields.next();
            final JsonNode value = field.getValue();
            switch (field.getKey().toLowerCase(Locale.ROOT))
            {
                case "meshkey" -> meshKey = meshKey(value);
                case "version" -> version = intField("version", value);
                case "canackpings" -> canAckPings = boolField("CanAckPings", value);
                case "isprober" -> isProber = boolField("IsProber", value);
                case "appname" -> appName = stringField("AppName", value);
                default ->
                {
                    // Go ignores fields it does not know; so do we, for forward compatibility.
                }
            }
        }
        return new ClientInfo(meshKey, version, canAckPings, isProber, appName);
    }

    private static Optional<byte[]> meshKey(final JsonNode value)
    {
        if (value.isNull())
        {
            return Optional.empty();
        }
        if (!value.isTextual())
        {
            throw new ProtocolException(Violation.CLIENT_INFO_JSON, "ClientInfo meshKey is not a string");
        }
        try
        {
            return Optional.of(KeyHex.decode("meshKey", value.asText()));
        }
        catch (final IllegalArgumentException ex)
        {
            throw new ProtocolException(Violation.CLIENT_INFO_JSON, "ClientInfo " + ex.getMessage());
        }
    }

    private static int intField(final String name, final JsonNode value)
    {
        if (value.isNull())
        {
            return 0;
        }
        if (!value.canConvertToInt() || !value.isIntegralNumber())
        {
            throw new ProtocolException(Violation.CLIENT_INFO_JSON, "ClientInfo " + name + " is not an int");
        }
        return value.intValue();
    }

    private static boolean boolField(final String name, final JsonNode value)
    {
        if (value.isNull())
        {
            return false;
        }
        if (!value.isBoolean())
        {
            throw new ProtocolException(Violation.CLIENT_INFO_JSON, "ClientInfo " + name + " is not a bool");
        }
        return value.booleanValue();
    }

    private static String stringField(final String name, final JsonNode value)
    {
        if (value.isNull())
        {
            return "";
        }
        if (!value.isTextual())
        {
            throw new ProtocolException(Violation.CLIENT_INFO_JSON, "ClientInfo " + name + " is not a string");
        }
        return value.asText();
    }
}
