package io.jderper.transport.http;

import io.netty.handler.codec.http.FullHttpResponse;
import io.netty.handler.codec.http.HttpResponseStatus;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * derper's {@code -home} values (spec §4.12) and what each makes {@code /} answer.
 */
class HomePageTest
{
    private static String body(final FullHttpResponse response)
    {
        try
        {
            return response.content().toString(StandardCharsets.UTF_8);
        }
        finally
        {
            response.release();
        }
    }

    private static void assertBrowserHeaders(final FullHttpResponse response)
    {
        assertThat(response.headers().get("Content-Security-Policy")).startsWith("default-src 'self';")
            .doesNotContain("unsafe-inline");
        assertThat(response.headers().get("Strict-Transport-Security"))
            .isEqualTo("max-age=63072000; includeSubDomains");
        assertThat(response.headers().get("X-Frame-Options")).isEqualTo("DENY");
        assertThat(response.headers().get("X-Content-Type-Options")).isEqualTo("nosniff");
    }

    @Test
    void shouldServeTheDefaultPageForAnEmptyFlag()
    {
        final HomePage home = HomePage.parse("");
        final FullHttpResponse response = home.response(true, false);

        assertThat(home).isSameAs(HomePage.DEFAULT);
        assertThat(response.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(response.headers().get("Content-Type")).isEqualTo("text/html; charset=utf-8");
        assertBrowserHeaders(response);
        assertThat(body(response)).contains("<title>DERP</title>").doesNotContain("/debug/")
            .doesNotContain("Status: disabled");
    }

    @Test
    void shouldLinkTheDebugPagesOnlyForThoseAllowedAndSayWhenDerpIsDisabled()
    {
        assertThat(body(HomePage.DEFAULT.response(true, true))).contains("<a href=\"/debug/\">");
        assertThat(body(HomePage.DEFAULT.response(false, false))).contains("Status: disabled");
    }

    @Test
    void shouldServeAnEmptyPageForBlank()
    {
        final FullHttpResponse response = HomePage.parse("blank").response(true, true);

        assertThat(response.status()).isEqualTo(HttpResponseStatus.OK);
        assertThat(response.headers().get("Content-Type")).isEqualTo("text/html; charset=utf-8");
        assertBrowserHeaders(response);
        assertThat(body(response)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://example.com/", "http://example.com:8080/about?x=1#top", "https://[2001:db8::1]/"})
    void shouldRedirectToAnHttpUrl(final String url)
    {
        final FullHttpResponse response = HomePage.parse(url).response(true, false);

        assertThat(response.status()).isEqualTo(HttpResponseStatus.FOUND);
        assertThat(response.headers().get("Location")).isEqualTo(url);
        assertBrowserHeaders(response);
        assertThat(body(response)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {"Blank", "default", "example.com", "ftp://example.com/", "HTTPS://example.com/",
        "/local/path", " https://example.com/"})
    void shouldRefuseAnythingElse(final String flag)
    {
        assertThatThrownBy(() -> HomePage.parse(flag))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessage("-home must be empty (the default page), \"blank\" (an empty page) or an http:// or " +
                "https:// URL to redirect to, got \"" + flag + "\"");
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://exa mple.com/", "https://example.com/\r\nSet-Cookie: x=1",
        "https://exämple.com/"})
    void shouldRefuseARedirectThatCannotBeAHeader(final String flag)
    {
        assertThatThrownBy(() -> HomePage.parse(flag))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("-home: the redirect URL must be printable ASCII");
    }

    @ParameterizedTest
    @ValueSource(strings = {"https://", "http:///path", "https://exa%zzmple/"})
    void shouldRefuseARedirectWithoutAHost(final String flag)
    {
        assertThatThrownBy(() -> HomePage.parse(flag))
            .isInstanceOf(IllegalArgumentException.class)
            .hasMessageStartingWith("-home: ");
    }
}
