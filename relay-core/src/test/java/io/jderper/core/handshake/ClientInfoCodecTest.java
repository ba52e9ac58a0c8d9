package io.jderper.core.handshake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.Locale;

import io.jderper.core.protocol.ProtocolException;
import io.jderper.core.protocol.Violation;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class ClientInfoCodecTest
{
    private static final String MESH_HEX = "0123456789abcdef".repeat(4);

    private static ClientInfo decode(final String json)
    {
        return ClientInfoCodec.decode(json.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void shouldRejectTrailingBytesAsGoDoes()
    {
        for (final String json : new String[]{"{\"version\":2} x", "{\"version\":2}{}"})
        {
            assertThatThrownBy(() -> ClientInfoCodec.decode(json.getBytes(java.nio.charset.StandardCharsets.UTF_8)))
                .as(json)
                .isInstanceOfSatisfying(io.jderper.core.protocol.ProtocolException.class,
                    ex -> assertThat(ex.violation()).isEqualTo(io.jderper.core.protocol.Violation.CLIENT_INFO_JSON));
        }
    }

    @Test
    void shouldDecodeWhatTailscaledSends()
    {
        final ClientInfo info = decode("{\"version\":2,\"CanAckPings\":true}");

        assertThat(info.version()).isEqualTo(2);
        assertThat(info.canAckPings()).isTrue();
        assertThat(info.isProber()).isFalse();
        assertThat(info.meshKey()).isEmpty();
        assertThat(info.appName()).isEmpty();
    }

    @Test
    void shouldDecodeWhatAMeshPeerAndAProberSend()
    {
        final ClientInfo mesh = decode("{\"meshKey\":\"" + MESH_HEX + "\",\"version\":2,\"CanAckPings\":false}");
        final ClientInfo prober = decode(
            "{\"version\":2,\"CanAckPings\":false,\"IsProber\":true,\"AppName\":\"derpprobe\"}");

        assertThat(mesh.meshKey()).hasValueSatisfying(key -> assertThat(key).isEqualTo(HexFormat.of().parseHex(MESH_HEX)));
        assertThat(mesh.canAckPings()).isFalse();
        assertThat(prober.isProber()).isTrue();
        assertThat(prober.appName()).isEqualTo("derpprobe");
    }

    @Test
    void shouldMatchFieldNamesCaseInsensitivelyAsGoDoes()
    {
        final ClientInfo info = decode("{\"MESHKEY\":\"" + MESH_HEX.toUpperCase(Locale.ROOT) +
            "\",\"VERSION\":2,\"canackpings\":true,\"isPROBER\":true,\"appname\":\"x\"}");

        assertThat(info.meshKey()).hasValueSatisfying(key -> assertThat(key).isEqualTo(HexFormat.of().parseHex(MESH_HEX)));
        assertThat(info.version()).isEqualTo(2);
        assertThat(info.canAckPings()).isTrue();
        assertThat(info.isProber()).isTrue();
        assertThat(info.appName()).isEqualTo("x");
    }

    @Test
    void shouldIgnoreUnknownFieldsOfAnyShape()
    {
        final ClientInfo info = decode("{\"version\":2,\"Future\":{\"nested\":[1,2,{\"a\":null}]},\"Flag\":true," +
            "\"List\":[],\"Str\":\"s\",\"CanAckPings\":true,\"Num\":1.5e3}");

        assertThat(info.version()).isEqualTo(2);
        assertThat(info.canAckPings()).isTrue();
    }

    @Test
    void shouldTreatEmptyObjectAndNullsAsDefaults()
    {
        assertThat(decode("{}")).satisfies(info ->
        {
            assertThat(info.version()).isZero();
            assertThat(info.canAckPings()).isFalse();
            assertThat(info.meshKey()).isEmpty();
        });
        assertThat(decode("{\"meshKey\":null,\"version\":null,\"CanAckPings\":null,\"AppName\":null}").meshKey())
            .isEmpty();
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\"",
        "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0\"",
        "\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdeg\"",
        "\"\"",
        "12345",
        "true",
        "[\"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\"]",
    })
    void shouldFailTheDecodeOnABadMeshKey(final String meshKey)
    {
        assertJsonViolation("{\"version\":2,\"meshKey\":" + meshKey + "}");
    }

    @ParameterizedTest
    @ValueSource(strings = {
        "{\"version\":\"2\"}",
        "{\"version\":2.5}",
        "{\"version\":2.0}",
        "{\"version\":1e3}",
        "{\"CanAckPings\":\"true\"}",
        "{\"CanAckPings\":1}",
        "{\"IsProber\":\"yes\"}",
        "{\"AppName\":7}",
    })
    void shouldFailTheDecodeOnWronglyTypedKnownFields(final String json)
    {
        assertJsonViolation(json);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "not json", "{", "{\"version\":2", "[]", "[{\"version\":2}]", "2", "\"version\""})
    void shouldRejectInputThatIsNotAJsonObject(final String json)
    {
        assertJsonViolation(json);
    }

    @Test
    void shouldRejectBytesThatAreNotUtf8Json()
    {
        assertThatThrownBy(() -> ClientInfoCodec.decode(new byte[] {(byte)0xFF, (byte)0xFE, 0x7B, 0x7D}))
            .isInstanceOfSatisfying(ProtocolException.class,
                ex -> assertThat(ex.violation()).isEqualTo(Violation.CLIENT_INFO_JSON));
    }

    private static void assertJsonViolation(final String json)
    {
        assertThatThrownBy(() -> decode(json))
            .isInstanceOfSatisfying(ProtocolException.class,
                ex -> assertThat(ex.violation()).isEqualTo(Violation.CLIENT_INFO_JSON));
    }
}
