package io.jderper.core.interop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.jderper.core.crypto.NaclBox;
import io.jderper.core.handshake.ServerHandshake;
import io.jderper.core.key.KeyHex;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.ClientFrames;
import io.jderper.core.protocol.ControlFrames;
import io.jderper.core.protocol.DiscoPacket;
import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.FrameRules;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolException;
import io.jderper.core.protocol.Violation;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Frames and boxes produced at test time by Tailscale's own Go client code ({@code interop/cmd/vectorgen}, pinned
 * tailscale.com version) must decode byte for byte in relay-core.
 */
class GoVectorsTest
{
    private static final HexFormat HEX = HexFormat.of();
    private static JsonNode vectors;
    private static final Map<String, JsonNode> FRAMES = new HashMap<>();

    @BeforeAll
    static void generateVectorsWithGo() throws Exception
    {
        vectors = new ObjectMapper().readTree(GoPrograms.stdoutOf("./cmd/vectorgen"));
        for (final JsonNode frame : vectors.get("frames"))
        {
            FRAMES.put(frame.get("name").asText(), frame);
        }
        for (final JsonNode frame : vectors.get("serverFrames"))
        {
            FRAMES.put(frame.get("name").asText(), frame);
        }
    }


    private static NodePrivateKey key(final String field)
    {
        return NodePrivateKey.fromBytes(KeyHex.decode(field, vectors.get(field).asText()));
    }

    private static UnsafeBuffer frame(final String name)
    {
        assertThat(FRAMES).as("vector " + name).containsKey(name);
        return new UnsafeBuffer(HEX.parseHex(FRAMES.get(name).get("hex").asText()));
    }

    private static int payloadLength(final UnsafeBuffer frame)
    {
        final long length = FrameHeader.payloadLength(frame, 0);
        assertThat(length).as("declared length matches the bytes").isEqualTo(frame.capacity() - FrameHeader.LENGTH);
        return (int)length;
    }

    @Test
    void shouldDerivePublicKeysLikeGo()
    {
        assertThat(key("serverPrivateKey").publicKey().toHex()).isEqualTo(vectors.get("serverPublicKey").asText());
        assertThat(key("clientPrivateKey").publicKey().toHex()).isEqualTo(vectors.get("clientPublicKey").asText());
    }

    @Test
    void shouldOpenClientInfoSealedByGoClient()
    {
        final ServerHandshake handshake = new ServerHandshake(key("serverPrivateKey"), Optional.empty(),
            new SecureRandom());
        final UnsafeBuffer frame = frame("ClientInfo");
        final ServerHandshake.AuthenticatedClient client = handshake.openClientInfo(
            FrameHeader.type(frame, 0), frame, FrameHeader.LENGTH, payloadLength(frame));
        assertThat(client.key().toHex()).isEqualTo(vectors.get("clientPublicKey").asText());
        assertThat(client.info().version()).isEqualTo(2);
        assertThat(client.info().canAckPings()).isTrue();
        assertThat(client.meshPrivileged()).isFalse();
    }

    @Test
    void shouldGrantMeshPrivilegeOnlyForTheMatchingMeshKey()
    {
        final byte[] meshKey = KeyHex.decode("meshKey", vectors.get("meshKey").asText());
        final UnsafeBuffer frame = frame("ClientInfoMesh");
        final ServerHandshake withKey = new ServerHandshake(key("serverPrivateKey"), Optional.of(meshKey),
            new SecureRandom());
        assertThat(withKey.openClientInfo(FrameType.CLIENT_INFO, frame, FrameHeader.LENGTH, payloadLength(frame))
            .meshPrivileged()).isTrue();
        final byte[] otherKey = meshKey.clone();
        otherKey[0] ^= 1;
        final ServerHandshake wrongKey = new ServerHandshake(key("serverPrivateKey"), Optional.of(otherKey),
            new SecureRandom());
        assertThat(wrongKey.openClientInfo(FrameType.CLIENT_INFO, frame, FrameHeader.LENGTH, payloadLength(frame))
            .meshPrivileged()).isFalse();
    }

    @Test
    void shouldReadProberClientInfo()
    {
        final ServerHandshake handshake = new ServerHandshake(key("serverPrivateKey"), Optional.empty(),
            new SecureRandom());
        final UnsafeBuffer frame = frame("ClientInfoProber");
        final var client = handshake.openClientInfo(FrameType.CLIENT_INFO, frame, FrameHeader.LENGTH,
            payloadLength(frame));
        assertThat(client.info().isProber()).isTrue();
        assertThat(client.info().appName()).isEqualTo("vectorgen");
    }

    @Test
    void shouldRouteSendPacketsFromGoClient()
    {
        for (final String name : new String[]{"SendPacket", "SendPacketEmpty", "SendPacketDisco", "SendPacket1400"})
        {
            final UnsafeBuffer frame = frame(name);
            final JsonNode vector = FRAMES.get(name);
            assertThat(FrameHeader.type(frame, 0)).as(name).isEqualTo(FrameType.SEND_PACKET);
            final int length = payloadLength(frame);
            assertThat(FrameRules.check(FrameType.SEND_PACKET, length, false)).as(name).isEqualTo(FrameRules.BUFFER);
            final byte[] destination = new byte[32];
            frame.getBytes(FrameHeader.LENGTH, destination);
            assertThat(HEX.formatHex(destination)).as(name).isEqualTo(vector.get("dst").asText());
            final byte[] data = new byte[length - 32];
            frame.getBytes(FrameHeader.LENGTH + 32, data);
            assertThat(HEX.formatHex(data)).as(name).isEqualTo(vector.get("payloadHex").asText());
            assertThat(DiscoPacket.isDisco(frame, FrameHeader.LENGTH + 32, data.length)).as(name)
                .isEqualTo(name.contains("Disco"));
        }
    }

    @Test
    void shouldCheckControlFramesFromGoClient()
    {
        final UnsafeBuffer preferred = frame("NotePreferred");
        assertThat(FrameRules.check(FrameHeader.type(preferred, 0), payloadLength(preferred), false))
            .isEqualTo(FrameRules.BUFFER);
        assertThat(preferred.getByte(FrameHeader.LENGTH)).isEqualTo((byte)1);
        assertThat(frame("NotePreferredFalse").getByte(FrameHeader.LENGTH)).isEqualTo((byte)0);

        final UnsafeBuffer ping = frame("Ping");
        assertThat(FrameRules.check(FrameHeader.type(ping, 0), payloadLength(ping), false))
            .isEqualTo(FrameRules.BUFFER);
        final byte[] pingData = new byte[8];
        ping.getBytes(FrameHeader.LENGTH, pingData);
        assertThat(HEX.formatHex(pingData)).isEqualTo(FRAMES.get("Ping").get("pingHex").asText());

        final UnsafeBuffer pong = frame("Pong");
        assertThat(FrameRules.check(FrameHeader.type(pong, 0), payloadLength(pong), false)).isEqualTo(FrameRules.SKIP);
    }

    @Test
    void shouldRequireMeshPrivilegeForGoMeshFrames()
    {
        for (final String name : new String[]{"WatchConns", "ClosePeer", "ForwardPacket"})
        {
            final UnsafeBuffer frame = frame(name);
            final byte type = FrameHeader.type(frame, 0);
            final int length = payloadLength(frame);
            assertThat(FrameRules.check(type, length, true)).as(name).isEqualTo(FrameRules.BUFFER);
            assertThatThrownBy(() -> FrameRules.check(type, length, false)).as(name)
                .isInstanceOfSatisfying(ProtocolException.class,
                    ex -> assertThat(ex.violation()).isEqualTo(Violation.NOT_PRIVILEGED));
        }
        final UnsafeBuffer forward = frame("ForwardPacket");
        final byte[] source = new byte[32];
        forward.getBytes(FrameHeader.LENGTH, source);
        assertThat(HEX.formatHex(source)).isEqualTo(FRAMES.get("ForwardPacket").get("src").asText());
    }

    @Test
    void shouldEncodeClientFramesByteForByteAsGoDoes()
    {
        final UnsafeBuffer out = new UnsafeBuffer(new byte[2048]);
        for (final String name : new String[]{"SendPacket", "SendPacketEmpty", "SendPacketDisco", "SendPacket1400"})
        {
            final JsonNode vector = FRAMES.get(name);
            final byte[] data = HEX.parseHex(vector.get("payloadHex").asText());
            final int prefix = ClientFrames.sendPacketPrefix(out, 0,
                new UnsafeBuffer(HEX.parseHex(vector.get("dst").asText())), 0, data.length);
            out.putBytes(prefix, data);
            assertThat(hex(out, prefix + data.length)).as(name).isEqualTo(vector.get("hex").asText());
        }
        final JsonNode forward = FRAMES.get("ForwardPacket");
        final byte[] forwardData = HEX.parseHex(forward.get("payloadHex").asText());
        final int forwardPrefix = ClientFrames.forwardPacketPrefix(out, 0,
            new UnsafeBuffer(HEX.parseHex(forward.get("src").asText())), 0,
            new UnsafeBuffer(HEX.parseHex(forward.get("dst").asText())), 0, forwardData.length);
        out.putBytes(forwardPrefix, forwardData);
        assertThat(hex(out, forwardPrefix + forwardData.length)).isEqualTo(forward.get("hex").asText());

        assertThat(hex(out, ClientFrames.notePreferred(out, 0, true))).isEqualTo(FRAMES.get("NotePreferred")
            .get("hex").asText());
        assertThat(hex(out, ClientFrames.notePreferred(out, 0, false))).isEqualTo(FRAMES.get("NotePreferredFalse")
            .get("hex").asText());
        final long pingData = Long.parseUnsignedLong(FRAMES.get("Ping").get("pingHex").asText(), 16);
        assertThat(hex(out, ClientFrames.ping(out, 0, pingData))).isEqualTo(FRAMES.get("Ping").get("hex").asText());
        assertThat(hex(out, ControlFrames.pong(out, 0, pingData))).isEqualTo(FRAMES.get("Pong").get("hex").asText());
        assertThat(hex(out, ClientFrames.watchConns(out, 0))).isEqualTo(FRAMES.get("WatchConns").get("hex").asText());
        assertThat(hex(out, ClientFrames.closePeer(out, 0,
            new UnsafeBuffer(HEX.parseHex(FRAMES.get("ClosePeer").get("dst").asText())), 0)))
            .isEqualTo(FRAMES.get("ClosePeer").get("hex").asText());

        // ClientInfo boxes carry random nonces: re-frame Go's own box and compare the framing.
        final UnsafeBuffer clientInfo = frame("ClientInfo");
        final byte[] box = new byte[payloadLength(clientInfo) - 32];
        clientInfo.getBytes(FrameHeader.LENGTH + 32, box);
        final int length = ClientFrames.clientInfo(out, 0,
            HEX.parseHex(FRAMES.get("ClientInfo").get("clientPublicKey").asText()), box);
        assertThat(hex(out, length)).isEqualTo(FRAMES.get("ClientInfo").get("hex").asText());
    }

    private static String hex(final UnsafeBuffer buffer, final int length)
    {
        final byte[] bytes = new byte[length];
        buffer.getBytes(0, bytes);
        return HEX.formatHex(bytes);
    }

    @Test
    void shouldProduceTheServerKeyFrameGoClientsRead()
    {
        final ServerHandshake handshake = new ServerHandshake(key("serverPrivateKey"), Optional.empty(),
            new SecureRandom());
        assertThat(HEX.formatHex(handshake.serverKeyFrame())).isEqualTo(FRAMES.get("ServerKey").get("hex").asText());
    }

    @Test
    void shouldOpenEveryGoBox()
    {
        final NodePrivateKey server = key("serverPrivateKey");
        final NodePrivateKey client = key("clientPrivateKey");
        int opened = 0;
        for (final JsonNode box : vectors.get("boxes"))
        {
            final boolean toServer = "server".equals(box.get("to").asText());
            final NodePrivateKey recipient = toServer ? server : client;
            final byte[] senderPublic = (toServer ? client : server).publicKey().toBytes();
            final byte[] sealed = HEX.parseHex(box.get("sealedHex").asText());
            final Optional<byte[]> plaintext = NaclBox.open(recipient, senderPublic, 0, sealed, 0, sealed.length);
            assertThat(plaintext).as("box %s", box).isPresent();
            assertThat(HEX.formatHex(plaintext.get())).isEqualTo(box.get("plaintextHex").asText());
            opened++;
        }
        assertThat(opened).isPositive();

        final UnsafeBuffer serverInfo = frame("ServerInfo");
        final byte[] box = new byte[payloadLength(serverInfo)];
        serverInfo.getBytes(FrameHeader.LENGTH, box);
        assertThat(NaclBox.open(client, server.publicKey().toBytes(), 0, box, 0, box.length))
            .hasValueSatisfying(json -> assertThat(new String(json, StandardCharsets.UTF_8)).isEqualTo("{\"version\":2}"));
        assertThat(Files.exists(Path.of("..", "interop", "go.mod"))).isTrue();
    }
}
