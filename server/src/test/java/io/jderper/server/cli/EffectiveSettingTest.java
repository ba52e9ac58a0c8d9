package io.jderper.server.cli;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * What the configuration summary prints of a value: secrets never, paths and plain values as they are.
 */
class EffectiveSettingTest
{
    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
        "acme-eab-key|c2VjcmV0LWtleQ|<secret, not shown>",
        "secrets-url|https://setec.example.com|<secret, not shown>",
        "mesh-psk-file|/etc/jderper/mesh.key|/etc/jderper/mesh.key",
        "bearer-token-file|/etc/jderper/token|/etc/jderper/token",
        "acme-eab-kid|kid-1|kid-1",
        "hostname|derp.example.com|derp.example.com",
        "verify-client-url|https://user:pa55@hs.example.com/verify|https://user:***@hs.example.com/verify",
        "verify-client-url|https://t0ken@hs.example.com:8443/verify|https://***@hs.example.com:8443/verify",
        "verify-client-url|https://hs.example.com/verify?token=abc|https://hs.example.com/verify?***",
        "verify-client-url|https://hs.example.com/verify|https://hs.example.com/verify",
        "verify-client-url|https://bad host/?x=secret|<secret, not shown>",
        "hostname|''|\"\""})
    void shouldMaskSecretsOnly(final String name, final String value, final String shown)
    {
        assertThat(new EffectiveSetting(name, value, "flag").shown()).isEqualTo(shown);
    }
}
