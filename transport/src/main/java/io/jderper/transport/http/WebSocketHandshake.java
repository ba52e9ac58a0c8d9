package io.jderper.transport.http;

import io.netty.handler.codec.http.DefaultFullHttpResponse;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The server side of the RFC 6455 opening handshake for {@code /derp}, with the checks and answers of
 * coder/websocket, the library derper accepts WebSockets with: GET, {@code Connection: Upgrade},
 * {@code Upgrade: websocket}, version 13 and a 16-byte key; any Origin; no extensions (derper turns compression
 * off); the {@code derp} subprotocol when offered.
 */
final class WebSocketHandshake
{
    /** The subprotocol DERP over WebSocket uses. */
    static final String SUBPROTOCOL = "derp";
    private static final String KEY_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

    private WebSocketHandshake()
    {
    }

    /**
     * @param request an upgrade request to {@code /derp} that asked for WebSocket.
     * @return the error response if the handshake request is malformed, else empty.
     */
    static Optional<FullHttpResponse> refusal(final HttpRequest request)
    {
        final HttpHeaders headers = request.headers();
        if (!hasToken(headers.getAll("Connection"), "upgrade"))
        {
            final FullHttpResponse response = HttpResponses.error(HttpResponseStatus.UPGRADE_REQUIRED,
                "WebSocket protocol violation: Connection header \"" + headers.get("Connection", "") +
                    "\" does not contain Upgrade");
            response.headers().set("Connection", "Upgrade").set("Upgrade", "websocket");
            return Optional.of(response);
        }
        if (!HttpMethod.GET.equals(request.method()))
        {
            return Optional.of(HttpResponses.error(HttpResponseStatus.METHOD_NOT_ALLOWED,
                "WebSocket protocol violation: handshake request method is not GET but \"" + request.method() + "\""));
        }
        if (!"13".equals(headers.get("Sec-WebSocket-Version")))
        {
            final FullHttpResponse response = HttpResponses.error(HttpResponseStatus.BAD_REQUEST,
                "unsupported WebSocket protocol version (only 13 is supported): \"" +
                    headers.get("Sec-WebSocket-Version", "") + "\"");
            response.headers().set("Sec-WebSocket-Version", "13");
            return Optional.of(response);
        }
        final List<String> keys = headers.getAll("Sec-WebSocket-Key");
        if (keys.size() != 1)
        {
            return Optional.of(HttpResponses.error(HttpResponseStatus.BAD_REQUEST, keys.isEmpty() ?
                "WebSocket protocol violation: missing Sec-WebSocket-Key" :
                "WebSocket protocol violation: multiple Sec-WebSocket-Key headers"));
        }
        if (!isSixteenBytesOfBase64(keys.getFirst().strip()))
        {
            return Optional.of(HttpResponses.error(HttpResponseStatus.BAD_REQUEST,
                "WebSocket protocol violation: invalid Sec-WebSocket-Key \"" + keys.getFirst().strip() +
                    "\", must be a 16 byte base64 encoded string"));
        }
        return Optional.empty();
    }

    /**
     * @param request a request {@link #refusal} accepted.
     * @return whether the client offered exactly the {@code derp} subprotocol.
     */
    static boolean offersDerp(final HttpRequest request)
    {
        for (final String header : request.headers().getAll("Sec-WebSocket-Protocol"))
        {
            for (final String offered : header.split(","))
            {
                if (SUBPROTOCOL.equals(offered.strip()))
                {
                    return true;
                }
            }
        }
        return false;
    }

    /**
     * @param request a request {@link #refusal} accepted.
     * @return the 101 response: Upgrade, Connection, Sec-WebSocket-Accept, and the subprotocol if offered.
     */
    static FullHttpResponse switchingProtocols(final HttpRequest request)
    {
        final FullHttpResponse response = new DefaultFullHttpResponse(HttpVersion.HTTP_1_1,
            HttpResponseStatus.SWITCHING_PROTOCOLS);
        response.headers()
            .set("Upgrade", "websocket")
            .set("Connection", "Upgrade")
            .set("Sec-WebSocket-Accept", acceptValue(request.headers().get("Sec-WebSocket-Key").strip()));
        if (offersDerp(request))
        {
            response.headers().set("Sec-WebSocket-Protocol", SUBPROTOCOL);
        }
        return response;
    }

    /**
     * @param key the client's Sec-WebSocket-Key.
     * @return base64 of the SHA-1 of the key and RFC 6455's GUID.
     */
    static String acceptValue(final String key)
    {
        try
        {
            final MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            return Base64.getEncoder().encodeToString(sha1.digest((key + KEY_GUID).getBytes(StandardCharsets.US_ASCII)));
        }
        catch (final NoSuchAlgorithmException ex)
        {
            throw new IllegalStateException("every JDK has SHA-1", ex);
        }
    }

    private static boolean isSixteenBytesOfBase64(final String key)
    {
        try
        {
            return Base64.getDecoder().decode(key).length == 16;
        }
        catch (final IllegalArgumentException ex)
        {
            return false;
        }
    }

    private static boolean hasToken(final List<String> headers, final String token)
    {
        for (final String header : headers)
        {
            for (final String value : header.split(","))
            {
                if (value.strip().toLowerCase(Locale.ROOT).equals(token))
                {
                    return true;
                }
            }
        }
        return false;
    }
}
