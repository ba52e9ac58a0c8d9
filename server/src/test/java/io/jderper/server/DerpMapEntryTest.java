package io.jderper.server;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Optional;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.Test;

/**
 * The DERP map node printed at start (spec §7.1, tailcfg field names).
 */
class DerpMapEntryTest
{
    private static final String PIN = "sha256-raw:" + "ab".repeat(32);

    private static Iterable<String> fieldNames(final JsonNode node)
    {
        return node::fieldNames;
    }

    @Test
    void shouldDescribeAnIpv4NodeOnPort443()
    {
        final ObjectNode node = DerpMapEntry.of("203.0.113.10", 443, Optional.of(PIN), -1).node();

        assertThat(node.get("Name").asText()).isEqualTo("900a");
        assertThat(node.get("RegionID").asInt()).isEqualTo(900);
        assertThat(node.get("RegionID").isInt()).isTrue();
        assertThat(node.get("HostName").asText()).isEqualTo("203.0.113.10");
        assertThat(node.get("IPv4").asText()).isEqualTo("203.0.113.10");
        assertThat(node.get("CertName").asText()).isEqualTo(PIN);
        assertThat(node.get("STUNPort").asInt()).isEqualTo(-1);
        assertThat(fieldNames(node)).as("DERPPort is left out for 443, which clients assume")
            .containsExactlyInAnyOrder("Name", "RegionID", "HostName", "CertName", "IPv4", "STUNPort");
    }

    @Test
    void shouldGiveTheDerpPortWhenItIsNot443()
    {
        final ObjectNode node = DerpMapEntry.of("127.0.0.1", 8443, Optional.empty(), 3478).node();

        assertThat(node.get("DERPPort").asInt()).isEqualTo(8443);
        assertThat(node.get("DERPPort").isInt()).isTrue();
        assertThat(node.get("STUNPort").asInt()).isEqualTo(3478);
        assertThat(node.get("IPv4").asText()).isEqualTo("127.0.0.1");
        assertThat(node.has("CertName")).as("no pin given").isFalse();
        assertThat(node.has("IPv6")).isFalse();
    }

    @Test
    void shouldPutAnIpv6LiteralInTheIpv6Field() throws UnknownHostException
    {
        final ObjectNode node = DerpMapEntry.of("2001:db8::10", 443, Optional.of(PIN), -1).node();

        assertThat(node.get("HostName").asText()).isEqualTo("2001:db8::10");
        assertThat(node.has("IPv4")).isFalse();
        assertThat(node.has("IPv6")).isTrue();
        assertThat(InetAddress.getByName(node.get("IPv6").asText()))
            .isEqualTo(InetAddress.getByName("2001:db8::10"));
        assertThat(node.has("DERPPort")).isFalse();
    }

    @Test
    void shouldPutNoAddressForADnsName()
    {
        final ObjectNode node = DerpMapEntry.of("derp.example.com", 443, Optional.empty(), -1).node();

        assertThat(node.get("HostName").asText()).isEqualTo("derp.example.com");
        assertThat(fieldNames(node)).containsExactlyInAnyOrder("Name", "RegionID", "HostName", "STUNPort");
    }

    @Test
    void shouldPutNoAddressForADnsNameStartingWithDigits()
    {
        final ObjectNode node = DerpMapEntry.of("1e100.example", 443, Optional.empty(), -1).node();

        assertThat(node.has("IPv4")).isFalse();
        assertThat(node.has("IPv6")).isFalse();
    }

    @Test
    void shouldWrapTheNodeInRegion900()
    {
        final DerpMapEntry entry = DerpMapEntry.of("203.0.113.10", 8443, Optional.empty(), -1);
        final ObjectNode node = entry.node();

        final ObjectNode map = entry.map();

        assertThat(fieldNames(map)).containsExactly("Regions");
        assertThat(fieldNames(map.get("Regions"))).containsExactly("900");
        final JsonNode region = map.get("Regions").get("900");
        assertThat(region.get("RegionID").asInt()).isEqualTo(DerpMapEntry.REGION_ID).isEqualTo(900);
        assertThat(region.get("RegionCode").asText()).isNotBlank();
        assertThat(region.get("RegionName").asText()).isNotBlank();
        assertThat(region.get("Nodes").isArray()).isTrue();
        assertThat(region.get("Nodes")).hasSize(1);
        assertThat(region.get("Nodes").get(0)).isEqualTo(node);
        assertThat(region.get("Nodes").get(0).get("RegionID").asInt()).isEqualTo(region.get("RegionID").asInt());
    }

    @Test
    void shouldWriteHeadscalesLowerCaseYamlForTheSameNode()
    {
        final DerpMapEntry entry = new DerpMapEntry(901, "fra", "Frankfurt: \"home\"", "derp.example.com",
            Optional.of("198.51.100.1"), Optional.of("2001:db8::1"), 8443, 3478, Optional.of(PIN));

        assertThat(entry.headscaleYaml()).isEqualTo("""
            regions:
              901:
                regionid: 901
                regioncode: "fra"
                regionname: "Frankfurt: \\"home\\""
                nodes:
                  - name: "901a"
                    regionid: 901
                    hostname: "derp.example.com"
                    certname: "%s"
                    ipv4: "198.51.100.1"
                    ipv6: "2001:db8::1"
                    stunport: 3478
                    derpport: 8443
            """.formatted(PIN));
        assertThat(entry.node().get("IPv6").asText()).isEqualTo("2001:db8::1");
        assertThat(entry.map().get("Regions").get("901").get("RegionName").asText()).isEqualTo("Frankfurt: \"home\"");
    }

    @Test
    void shouldRefuseImpossibleValues()
    {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new DerpMapEntry(0, "x", "x", "h", Optional.empty(),
            Optional.empty(), 443, -1, Optional.empty())).hasMessageContaining("region ID");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> DerpMapEntry.of("h", 0, Optional.empty(), -1))
            .hasMessageContaining("DERP port");
    }
}
