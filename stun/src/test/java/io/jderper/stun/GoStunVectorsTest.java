package io.jderper.stun;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jderper.core.interop.GoPrograms;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * STUN messages made at test time by Tailscale's own {@code net/stun} package ({@code interop/cmd/stunvectors}, the
 * pinned tailscale.com version): our request must be byte-identical to Tailscale's, our response byte-identical to
 * derper's, and our request check must agree with Tailscale's server-side parser on every datagram.
 */
class GoStunVectorsTest
{
    private static final HexFormat HEX = HexFormat.of();
    private static JsonNode vectors;

    @BeforeAll
    static void generateVectorsWithGo() throws Exception
    {
        vectors = new ObjectMapper().readTree(GoPrograms.stdoutOf("./cmd/stunvectors"));
        assertThat(vectors.get("tailscaleVersion").asText()).startsWith("v1.");
    }

    @Test
    void writesTheRequestTailscaleSends()
    {
        assertThat(vectors.get("requests")).hasSizeGreaterThanOrEqualTo(4);
        for (final JsonNode request : vectors.get("requests"))
        {
            // Off-heap and at an offset, as the load generator writes it.
            final UnsafeBuffer buffer = new UnsafeBuffer(ByteBuffer.allocateDirect(64));
            final int length = StunMessages.writeTailscaleRequest(buffer, 7,
                new UnsafeBuffer(HEX.parseHex(request.get("txid").asText())), 0);

            final byte[] written = new byte[length];
            buffer.getBytes(7, written);
            assertThat(HEX.formatHex(written)).isEqualTo(request.get("hex").asText());
            assertThat(StunMessages.isTailscaleRequest(buffer, 7, length)).isTrue();
        }
    }

    @Test
    void writesTheResponseDerperWrites() throws Exception
    {
        assertThat(vectors.get("responses")).hasSizeGreaterThanOrEqualTo(4);
        for (final JsonNode response : vectors.get("responses"))
        {
            final byte[] address = InetAddress.getByName(response.get("addr").asText()).getAddress();
            final byte[] expected = HEX.parseHex(response.get("hex").asText());
            // Java turns "::ffff:a.b.c.d" into an Inet4Address; Go keeps the 16-byte form, and so does derper.
            final byte[] asGoKeepsIt = expected.length == StunMessages.RESPONSE_LENGTH_IPV6 && 4 == address.length ?
                mapped(address) : address;
            final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);

            final int length = StunMessages.writeSuccessResponse(buffer, 3,
                new UnsafeBuffer(HEX.parseHex(response.get("txid").asText())), 0, asGoKeepsIt,
                response.get("port").asInt());

            final byte[] written = new byte[length];
            buffer.getBytes(3, written);
            assertThat(HEX.formatHex(written)).as(response.toString()).isEqualTo(response.get("hex").asText());
        }
    }

    @Test
    void readsTheResponsesDerperWrites() throws Exception
    {
        final BindingResponse reader = new BindingResponse();
        for (final JsonNode response : vectors.get("responses"))
        {
            final byte[] bytes = HEX.parseHex(response.get("hex").asText());
            final byte[] address = InetAddress.getByName(response.get("addr").asText()).getAddress();

            assertThat(reader.wrap(new UnsafeBuffer(bytes), 0, bytes.length)).as(response.toString()).isTrue();
            assertThat(reader.isAddress(address, response.get("port").asInt())).as(response.toString()).isTrue();
            assertThat(reader.isAddress(address, response.get("port").asInt() ^ 1)).isFalse();
            final byte[] txid = new byte[StunMessages.TRANSACTION_ID_LENGTH];
            reader.buffer().getBytes(reader.transactionIdOffset(), txid);
            assertThat(HEX.formatHex(txid)).isEqualTo(response.get("txid").asText());
        }
    }

    @Test
    void acceptsExactlyWhatTailscalesServerAccepts()
    {
        assertThat(vectors.get("parsed")).hasSizeGreaterThanOrEqualTo(9);
        for (final JsonNode datagram : vectors.get("parsed"))
        {
            final byte[] bytes = HEX.parseHex(datagram.get("hex").asText());
            assertThat(StunMessages.isTailscaleRequest(new UnsafeBuffer(bytes), 0, bytes.length))
                .as(datagram.get("name").asText())
                .isEqualTo(datagram.get("isBindingRequest").asBoolean());
        }
    }

    private static byte[] mapped(final byte[] ipv4)
    {
        final byte[] address = new byte[16];
        address[10] = (byte)0xFF;
        address[11] = (byte)0xFF;
        System.arraycopy(ipv4, 0, address, 12, 4);
        return address;
    }
}
