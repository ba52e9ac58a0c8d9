package io.jderper.transport.derp;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.handler.codec.http.DefaultHttpRequest;
import io.netty.handler.codec.http.HttpMethod;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import org.junit.jupiter.api.Test;

class BearerTokenTest
{
    private static HttpRequest request(final String authorization)
    {
        final HttpRequest request = new DefaultHttpRequest(HttpVersion.HTTP_1_1, HttpMethod.GET, "/derp");
        if (null != authorization)
        {
            request.headers().set("Authorization", authorization);
        }
        return request;
    }

    @Test
    void shouldTakeTheTokenOfABearerAuthorizationOnly()
    {
        assertThat(DerpUpgrade.bearerToken(request("Bearer abc123"))).isEqualTo("abc123");
        assertThat(DerpUpgrade.bearerToken(request("bearer  abc123 "))).as("scheme in any case").isEqualTo("abc123");
        assertThat(DerpUpgrade.bearerToken(request("Basic YWxpY2U6c2VjcmV0"))).isNull();
        assertThat(DerpUpgrade.bearerToken(request("Bearer "))).isNull();
        assertThat(DerpUpgrade.bearerToken(request(null))).isNull();
    }
}
