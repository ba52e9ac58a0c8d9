package io.jderper.transport.client;

import io.jderper.core.key.NodePrivateKey;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.security.SecureRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DerpClientOptionsTest
{
    private static final NodePrivateKey KEY = NodePrivateKey.generate(new SecureRandom());

    private static DerpClientOptions.Builder builder(final String url)
    {
        return DerpClientOptions.builder(URI.create(url), KEY);
    }

    @Test
    void shouldDeriveHostPortAndHostHeaderFromTheUrl()
    {
        final DerpClientOptions tls = builder("https://derp.example.com/derp").build();
        assertThat(tls.tls()).isTrue();
        assertThat(tls.port()).isEqualTo(443);
        assertThat(tls.hostHeader()).isEqualTo("derp.example.com");
        assertThat(tls.requestTarget()).isEqualTo("/derp");

        final DerpClientOptions plain = builder("http://[::1]:3340").build();
        assertThat(plain.tls()).isFalse();
        assertThat(plain.host()).isEqualTo("::1");
        assertThat(plain.port()).isEqualTo(3340);
        assertThat(plain.hostHeader()).isEqualTo("[::1]:3340");
        assertThat(plain.requestTarget()).isEqualTo("/derp");

        assertThat(builder("https://10.0.0.1:8443/derp?x=1").build().hostHeader()).isEqualTo("10.0.0.1:8443");
        assertThat(builder("https://10.0.0.1:8443/derp?x=1").build().requestTarget()).isEqualTo("/derp?x=1");
    }

    @Test
    void shouldDialTheDialHostButNameTheUrlsHost()
    {
        final DerpClientOptions options = builder("https://derp.example.com:8443/derp").dialHost("10.0.0.2").build();

        assertThat(options.dialHost()).isEqualTo("10.0.0.2");
        assertThat(options.host()).isEqualTo("derp.example.com");
        assertThat(options.hostHeader()).isEqualTo("derp.example.com:8443");
        assertThat(builder("https://derp.example.com/derp").build().dialHost()).isEqualTo("derp.example.com");
        assertThatThrownBy(() -> builder("https://h/derp").dialHost("").build()).hasMessageContaining("dialHost");
        assertThatThrownBy(() -> builder("https://h/derp").dialHost("a/b").build()).hasMessageContaining("dialHost");
    }

    @Test
    void shouldEncodeClientInfoAsTailscaleDoes()
    {
        assertThat(builder("https://h/derp").build().clientInfoJson())
            .isEqualTo("{\"version\":2,\"CanAckPings\":true}");
        assertThat(builder("https://h/derp").canAckPings(false).prober(true).build().clientInfoJson())
            .isEqualTo("{\"version\":2,\"CanAckPings\":false,\"IsProber\":true}");
    }

    @Test
    void shouldRefuseBadSettingsByName()
    {
        assertThatThrownBy(() -> builder("ws://h/derp").build()).hasMessageContaining("scheme must be https or http");
        assertThatThrownBy(() -> builder("https:///derp").build()).hasMessageContaining("no host");
        assertThatThrownBy(() -> builder("https://h/derp").meshKey(new byte[31]).build())
            .hasMessageContaining("meshKey.length=31");
        assertThatThrownBy(() -> builder("https://h/derp").handshakeTimeoutMs(0).build())
            .hasMessageContaining("handshakeTimeoutMs=0");
        assertThatThrownBy(() -> builder("https://h/derp").idealNode("a\r\nX: y").build())
            .hasMessageContaining("idealNode");
        assertThatThrownBy(() -> DerpTrust.sha256Raw("sha256-raw:abc")).hasMessageContaining("64 hex");
        assertThatThrownBy(() -> DerpTrust.sha256Raw("sha1:" + "00".repeat(32))).hasMessageContaining("sha256-raw:");
        assertThat(DerpTrust.sha256Raw("sha256-raw:" + "AB".repeat(32)))
            .isEqualTo(DerpTrust.sha256Raw("sha256-raw:" + "ab".repeat(32)));
    }
}
