package io.jderper.transport.mesh;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.net.URI;
import java.util.Map;

import io.jderper.transport.client.DerpTrust;
import org.junit.jupiter.api.Test;

class MeshPeerAddressTest
{
    @Test
    void shouldParseDerpersHostTuples()
    {
        assertThat(MeshPeerAddress.parseList("derp1.example.com,derp2.example.com:8443/10.0.0.2, ,"))
            .containsExactly(new MeshPeerAddress("derp1.example.com", null),
                new MeshPeerAddress("derp2.example.com:8443", "10.0.0.2"));
        final MeshPeerAddress withDialHost = MeshPeerAddress.parse("derp2.example.com:8443/10.0.0.2");
        assertThat(withDialHost.url()).isEqualTo(URI.create("https://derp2.example.com:8443/derp"));
        assertThat(withDialHost.dialTarget()).isEqualTo("10.0.0.2:8443");
        assertThat(MeshPeerAddress.parse("derp.example.com/fd7a::2").dialTarget()).isEqualTo("[fd7a::2]:443");
        assertThat(MeshPeerAddress.parse("[fd7a::1]:443").url().getHost()).isEqualTo("[fd7a::1]");
    }

    @Test
    void shouldTellPeersSharingOnePublicNameApartInLogs()
    {
        final MeshPeerAddress first = MeshPeerAddress.parse("derp.example.com/jderper-0.jderper.derp.svc");
        final MeshPeerAddress second = MeshPeerAddress.parse("derp.example.com/jderper-1.jderper.derp.svc");

        assertThat(first.label()).isEqualTo("derp.example.com via jderper-0.jderper.derp.svc:443");
        assertThat(first.label()).isNotEqualTo(second.label());
        assertThat(MeshPeerAddress.parse("derp1.example.com").label()).isEqualTo("derp1.example.com");
    }

    @Test
    void shouldRefuseMalformedEntriesNamingThem()
    {
        assertThatThrownBy(() -> MeshPeerAddress.parse("a/b/c")).hasMessageContaining("too many components")
            .hasMessageContaining("a/b/c");
        assertThatThrownBy(() -> MeshPeerAddress.parse("/10.0.0.1")).hasMessageContaining("empty host");
        assertThatThrownBy(() -> MeshPeerAddress.parse("derp.example.com/")).hasMessageContaining("empty host");
        assertThatThrownBy(() -> MeshPeerAddress.parse("bad host:x")).hasMessageContaining("not host[:port]");
    }

    @Test
    void shouldTrustGosSslCertFileWhenItIsSet()
    {
        assertThat(Mesh.trustFrom(Map.of()).kind()).isEqualTo(DerpTrust.Kind.SYSTEM);
        assertThat(Mesh.trustFrom(Map.of("SSL_CERT_FILE", "/etc/ssl/test-ca.pem")).caFile())
            .hasToString("/etc/ssl/test-ca.pem");
    }
}
