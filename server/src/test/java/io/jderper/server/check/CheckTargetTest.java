package io.jderper.server.check;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CheckTargetTest
{
    private static final String PIN = "sha256-raw:" + "0f".repeat(32);

    @TempDir
    Path dir;

    @Test
    void takesAUrlWithOrWithoutSchemeAndPath()
    {
        final CheckTarget bare = CheckTarget.fromUrl("derp.example.com", Optional.empty(), 3478);
        assertThat(bare.url()).hasToString("https://derp.example.com/derp");
        assertThat(bare.stunHost()).isEqualTo("derp.example.com");

        final CheckTarget full = CheckTarget.fromUrl("https://[2001:db8::1]:8443/derp", Optional.of(PIN), -1);
        assertThat(full.url()).hasToString("https://[2001:db8::1]:8443/derp");
        assertThat(full.stunHost()).isEqualTo("2001:db8::1");
        assertThat(full.stunPort()).isEqualTo(-1);
        assertThat(full.certName()).hasValue(PIN);

        assertThatThrownBy(() -> CheckTarget.fromUrl("ftp://x/derp", Optional.empty(), 3478))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("want https://");
    }

    @Test
    void readsEveryNodeOfATailscaleJsonMapWithKeysInAnyCase() throws IOException
    {
        final Path map = Files.writeString(dir.resolve("map.json"), """
            {"Regions": {
              "900": {"RegionID": 900, "Nodes": [
                {"Name": "900a", "HostName": "203.0.113.1", "IPv4": "203.0.113.1", "CertName": "%s", "DERPPort": 8443},
                {"name": "900b", "hostname": "derp.example.com", "stunport": -1}]},
              "901": {"RegionID": 901, "Nodes": [
                {"Name": "901a", "HostName": "stun.example.com", "STUNOnly": true, "STUNPort": 3479,
                 "STUNTestIP": "198.51.100.9"}]}}}
            """.formatted(PIN));

        final List<CheckTarget> targets = CheckTarget.fromMapFile(map);

        assertThat(targets).hasSize(3);
        assertThat(targets.get(0).url()).hasToString("https://203.0.113.1:8443/derp");
        assertThat(targets.get(0).certName()).hasValue(PIN);
        assertThat(targets.get(0).stunPort()).as("0 means 3478").isEqualTo(3478);
        assertThat(targets.get(1).url()).hasToString("https://derp.example.com/derp");
        assertThat(targets.get(1).stunPort()).isEqualTo(-1);
        assertThat(targets.get(1).certName()).isEmpty();
        assertThat(targets.get(2).stunOnly()).isTrue();
        assertThat(targets.get(2).stunHost()).isEqualTo("198.51.100.9");
        assertThat(targets.get(2).stunPort()).isEqualTo(3479);
    }

    @Test
    void readsHeadscalesYaml() throws IOException
    {
        final Path map = Files.writeString(dir.resolve("derp.yaml"), """
            regions:
              900:
                regionid: 900
                nodes:
                  - name: "900a"
                    hostname: "203.0.113.1"
                    certname: "%s"
                    stunport: 3478
                    derpport: 0
            """.formatted(PIN));

        final List<CheckTarget> targets = CheckTarget.fromMapFile(map);

        assertThat(targets).singleElement().satisfies(target ->
        {
            assertThat(target.url()).hasToString("https://203.0.113.1/derp");
            assertThat(target.certName()).hasValue(PIN);
            assertThat(target.label()).startsWith("node 900a (region 900)");
        });
    }

    @Test
    void refusesWhatIsNotADerpMap() throws IOException
    {
        assertThatThrownBy(() -> CheckTarget.fromMapFile(Files.writeString(dir.resolve("a.json"), "{\"x\": 1}")))
            .hasMessageContaining("no \"Regions\"");
        assertThatThrownBy(() -> CheckTarget.fromMapFile(Files.writeString(dir.resolve("b.json"),
            "{\"Regions\": {\"1\": {\"Nodes\": [{\"Name\": \"1a\"}]}}}"))).hasMessageContaining("has no HostName");
        assertThatThrownBy(() -> CheckTarget.fromMapFile(Files.writeString(dir.resolve("c.yaml"), "regions: [")))
            .hasMessageContaining("neither a JSON nor a YAML DERP map");
    }
}
