package io.jderper.transport.http;

import io.netty.handler.codec.http.DefaultFullHttpRequest;
import io.netty.handler.codec.http.FullHttpRequest;
import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpResponseStatus;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

class WebSocketHandshakeTest
{
    private static final String RFC_KEY = "dGhlIHNhbXBsZSBub25jZQ==";

    private static FullHttpRequest request(final HttpMethod method)
    {
        final FullHttpRequest request = new DefaultFullHttpRequest(HttpVersion.HTTP_1_1, method, "/derp");
        request.headers()
            .set("Upgrade", "websocket")
            .set("Connection", "keep-alive, Upgrade")
            .set("Sec-WebSocket-Version", "13")
            .set("Sec-WebSocket-Key", RFC_KEY)
            .set("Sec-WebSocket-Protocol", "chat, derp");
        return request;
    }

    @Test
    void computesTheAcceptValueOfRfc6455()
    {
        assertThat(WebSocketHandshake.acceptValue(RFC_KEY)).isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    }

    @Test
    void acceptsAWellFormedRequestAndSelectsDerp()
    {
        final FullHttpRequest request = request(HttpMethod.GET);

        assertThat(WebSocketHandshake.refusal(request)).isEmpty();
        final FullHttpResponse response = WebSocketHandshake.switchingProtocols(request);
        assertThat(response.status()).isEqualTo(HttpResponseStatus.SWITCHING_PROTOCOLS);
        assertThat(response.headers().get("Sec-WebSocket-Accept")).isEqualTo("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assertThat(response.headers().get("Sec-WebSocket-Protocol")).isEqualTo("derp");
        request.release();
    }

    @Test
    void doesNotSelectASubprotocolThatOnlyContainsDerp()
    {
        final FullHttpRequest request = request(HttpMethod.GET);
        request.headers().set("Sec-WebSocket-Protocol", "derpx");

        assertThat(WebSocketHandshake.offersDerp(request)).isFalse();
        assertThat(WebSocketHandshake.switchingProtocols(request).headers().contains("Sec-WebSocket-Protocol"))
            .isFalse();
        request.release();
    }

    @Test
    void refusesEachMalformedHandshake()
    {
        assertRefused(request(HttpMethod.POST), HttpResponseStatus.METHOD_NOT_ALLOWED);

        final FullHttpRequest noConnection = request(HttpMethod.GET);
        noConnection.headers().set("Connection", "keep-alive");
        assertRefused(noConnection, HttpResponseStatus.UPGRADE_REQUIRED);

        final FullHttpRequest oldVersion = request(HttpMethod.GET);
        oldVersion.headers().set("Sec-WebSocket-Version", "8");
        assertThat(assertRefused(oldVersion, HttpResponseStatus.BAD_REQUEST).headers().get("Sec-WebSocket-Version"))
            .isEqualTo("13");

        final FullHttpRequest noKey = request(HttpMethod.GET);
        noKey.headers().remove("Sec-WebSocket-Key");
        assertRefused(noKey, HttpResponseStatus.BAD_REQUEST);

        final FullHttpRequest twoKeys = request(HttpMethod.GET);
        twoKeys.headers().add("Sec-WebSocket-Key", RFC_KEY);
        assertRefused(twoKeys, HttpResponseStatus.BAD_REQUEST);

        final FullHttpRequest shortKey = request(HttpMethod.GET);
        shortKey.headers().set("Sec-WebSocket-Key", "c2hvcnQ=");
        assertRefused(shortKey, HttpResponseStatus.BAD_REQUEST);
    }

    private static FullHttpResponse assertRefused(final FullHttpRequest request, final HttpResponseStatus status)
    {
        final Optional<FullHttpResponse> refusal = WebSocketHandshake.refusal(request);
        request.release();
        assertThat(refusal).isPresent();
        assertThat(refusal.get().status()).isEqualTo(status);
        refusal.get().release();
        return refusal.get();
    }
}
