package io.jderper.core.handshake;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;
import java.util.Optional;

import io.jderper.core.crypto.NaclBox;
import io.jderper.core.key.KeyHex;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolException;
import io.jderper.core.protocol.Violation;
import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class ServerHandshakeTest
{
    private static final String TAILSCALED_JSON = "{\"version\":2,\"CanAckPings\":true}";

    private final SecureRandom random = new SecureRandom();
    private final NodePrivateKey serverKey = NodePrivateKey.generate(random);
    private final NodePrivateKey clientKey = NodePrivateKey.generate(random);
    private final byte[] meshKey = randomBytes(32);
    private final ServerHandshake handshake = new ServerHandshake(serverKey, Optional.of(meshKey), random);

    private byte[] randomBytes(final int length)
    {
        final byte[] out = new byte[length];
        random.nextBytes(out);
        return out;
    }

    /** A ClientInfo payload as a Go client builds it: its public key, then the box sealed to the server. */
    private byte[] clientInfo(final NodePrivateKey client, final byte[] serverPublic, final String json)
    {
        final byte[] box = NaclBox.seal(client, serverPublic, json.getBytes(StandardCharsets.UTF_8), random);
        final byte[] payload = new byte[32 + box.length];
        client.publicKey().copyTo(payload, 0);
        System.arraycopy(box, 0, payload, 32, box.length);
        return payload;
    }

    private ServerHandshake.AuthenticatedClient open(final ServerHandshake server, final byte[] payload)
    {
        // Put the payload at an odd offset of a larger buffer, as a transport's read buffer would hold it.
        final byte[] holder = new byte[payload.length + 20];
        System.arraycopy(payload, 0, holder, 13, payload.length);
        return server.openClientInfo(FrameType.CLIENT_INFO, new UnsafeBuffer(holder), 13, payload.length);
    }

    @Test
    void shouldOpenClientInfoSealedByTheClient()
    {
        final ServerHandshake.AuthenticatedClient client =
            open(handshake, clientInfo(clientKey, serverKey.publicKey().toBytes(), TAILSCALED_JSON));

        assertThat(client.key()).isEqualTo(clientKey.publicKey());
        assertThat(client.info().version()).isEqualTo(2);
        assertThat(client.info().canAckPings()).isTrue();
        assertThat(client.meshPrivileged()).isFalse();
    }

    @Test
    void shouldGrantMeshPrivilegeOnlyForThisServersMeshKey()
    {
        final String withMesh = "{\"meshKey\":\"" + KeyHex.encode(meshKey) + "\",\"version\":2,\"CanAckPings\":false}";
        final String withUpperMesh = withMesh.replace(KeyHex.encode(meshKey),
            KeyHex.encode(meshKey).toUpperCase(Locale.ROOT));
        final byte[] otherMesh = meshKey.clone();
        otherMesh[31] ^= 1;
        final String withOtherMesh = "{\"meshKey\":\"" + KeyHex.encode(otherMesh) + "\"}";
        final byte[] serverPub = serverKey.publicKey().toBytes();

        assertThat(open(handshake, clientInfo(clientKey, serverPub, withMesh)).meshPrivileged()).isTrue();
        assertThat(open(handshake, clientInfo(clientKey, serverPub, withUpperMesh)).meshPrivileged()).isTrue();
        assertThat(open(handshake, clientInfo(clientKey, serverPub, withOtherMesh)).meshPrivileged()).isFalse();
        final ServerHandshake noMesh = new ServerHandshake(serverKey, Optional.empty(), random);
        assertThat(open(noMesh, clientInfo(clientKey, serverPub, withMesh)).meshPrivileged()).isFalse();
    }

    @Test
    void shouldNeverGrantMeshPrivilegeForTheZeroMeshKey()
    {
        final ServerHandshake zeroMesh = new ServerHandshake(serverKey, Optional.of(new byte[32]), random);
        final String zeroJson = "{\"meshKey\":\"" + "0".repeat(64) + "\"}";

        assertThat(open(zeroMesh, clientInfo(clientKey, serverKey.publicKey().toBytes(), zeroJson)).meshPrivileged())
            .isFalse();
    }

    @Test
    void shouldNotBeAffectedByTheCallerChangingItsMeshKeyArray()
    {
        final byte[] mesh = randomBytes(32);
        final String json = "{\"meshKey\":\"" + KeyHex.encode(mesh) + "\"}";
        final ServerHandshake server = new ServerHandshake(serverKey, Optional.of(mesh), random);
        Arrays.fill(mesh, (byte)0);

        assertThat(open(server, clientInfo(clientKey, serverKey.publicKey().toBytes(), json)).meshPrivileged()).isTrue();
    }

    @Test
    void shouldRejectABoxSealedToAnotherServer()
    {
        final byte[] otherServer = NodePrivateKey.generate(random).publicKey().toBytes();

        assertViolation(() -> open(handshake, clientInfo(clientKey, otherServer, TAILSCALED_JSON)),
            Violation.CLIENT_INFO_BOX);
    }

    @Test
    void shouldRejectAKeyThatDidNotSealTheBox()
    {
        final byte[] payload = clientInfo(clientKey, serverKey.publicKey().toBytes(), TAILSCALED_JSON);
        NodePrivateKey.generate(random).publicKey().copyTo(payload, 0);

        assertViolation(() -> open(handshake, payload), Violation.CLIENT_INFO_BOX);
    }

    @Test
    void shouldRejectATamperedBox()
    {
        final byte[] payload = clientInfo(clientKey, serverKey.publicKey().toBytes(), TAILSCALED_JSON);
        payload[payload.length - 1] ^= 0x20;

        assertViolation(() -> open(handshake, payload), Violation.CLIENT_INFO_BOX);
    }

    @Test
    void shouldRejectAPayloadWithNoRoomForATag()
    {
        final byte[] payload = Arrays.copyOf(
            clientInfo(clientKey, serverKey.publicKey().toBytes(), TAILSCALED_JSON), 56 + 15);

        assertViolation(() -> open(handshake, payload), Violation.CLIENT_INFO_BOX);
    }

    @Test
    void shouldRejectTheAllZeroClientKey()
    {
        final byte[] payload = clientInfo(clientKey, serverKey.publicKey().toBytes(), TAILSCALED_JSON);
        Arrays.fill(payload, 0, 32, (byte)0);

        assertViolation(() -> open(handshake, payload), Violation.CLIENT_INFO_ZERO_KEY);
    }

    @Test
    void shouldRejectAFirstFrameOfAnotherType()
    {
        final byte[] payload = clientInfo(clientKey, serverKey.publicKey().toBytes(), TAILSCALED_JSON);

        assertViolation(() -> handshake.openClientInfo(FrameType.SEND_PACKET, new UnsafeBuffer(payload), 0,
            payload.length), Violation.FIRST_FRAME_NOT_CLIENT_INFO);
        assertViolation(() -> handshake.openClientInfo(FrameType.SERVER_KEY, new UnsafeBuffer(payload), 0,
            payload.length), Violation.FIRST_FRAME_NOT_CLIENT_INFO);
    }

    @Test
    void shouldRejectClientInfoOutsideItsLengths()
    {
        final byte[] big = new byte[262_145];

        assertViolation(() -> handshake.openClientInfo(FrameType.CLIENT_INFO, new UnsafeBuffer(big), 0, 55),
            Violation.CLIENT_INFO_LENGTH);
        assertViolation(() -> handshake.openClientInfo(FrameType.CLIENT_INFO, new UnsafeBuffer(big), 0, big.length),
            Violation.CLIENT_INFO_LENGTH);
    }

    @Test
    void shouldRejectMalformedJsonInsideAValidBox()
    {
        final byte[] serverPub = serverKey.publicKey().toBytes();

        assertViolation(() -> open(handshake, clientInfo(clientKey, serverPub, "not json")), Violation.CLIENT_INFO_JSON);
        assertViolation(() -> open(handshake, clientInfo(clientKey, serverPub, "[1]")), Violation.CLIENT_INFO_JSON);
        assertViolation(() -> open(handshake, clientInfo(clientKey, serverPub, "{\"meshKey\":\"abc\"}")),
            Violation.CLIENT_INFO_JSON);
    }

    @Test
    void shouldSealServerInfoSoOnlyTheClientOpensIt()
    {
        final byte[] frame = handshake.serverInfoFrame(clientKey.publicKey());
        final UnsafeBuffer buffer = new UnsafeBuffer(frame);

        assertThat(FrameHeader.type(buffer, 0)).isEqualTo(FrameType.SERVER_INFO).isEqualTo((byte)0x03);
        assertThat(FrameHeader.payloadLength(buffer, 0)).isEqualTo(frame.length - 5L).isEqualTo(24 + 16 + 13);
        assertThat(Arrays.copyOf(frame, 5)).isEqualTo(HexFormat.of().parseHex("0300000035"));
        final Optional<byte[]> json = NaclBox.open(clientKey, serverKey.publicKey().toBytes(), 0, frame, 5,
            frame.length - 5);
        assertThat(json).hasValueSatisfying(
            plain -> assertThat(new String(plain, StandardCharsets.UTF_8)).isEqualTo("{\"version\":2}"));
        final NodePrivateKey stranger = NodePrivateKey.generate(random);
        assertThat(NaclBox.open(stranger, serverKey.publicKey().toBytes(), 0, frame, 5, frame.length - 5)).isEmpty();
    }

    @Test
    void shouldSealTheServerInfoOfAnOpenedClientInfoToThatClient()
    {
        final byte[] serverPub = serverKey.publicKey().toBytes();

        final byte[] frame = open(handshake, clientInfo(clientKey, serverPub, "{\"version\":2}")).serverInfoFrame();

        assertThat(Arrays.copyOf(frame, 5)).isEqualTo(HexFormat.of().parseHex("0300000035"));
        assertThat(NaclBox.open(clientKey, serverPub, 0, frame, 5, frame.length - 5)).hasValueSatisfying(
            plain -> assertThat(new String(plain, StandardCharsets.UTF_8)).isEqualTo("{\"version\":2}"));
        final NodePrivateKey stranger = NodePrivateKey.generate(random);
        assertThat(NaclBox.open(stranger, serverPub, 0, frame, 5, frame.length - 5)).isEmpty();
    }

    @Test
    void shouldUseAFreshNonceForEachServerInfo()
    {
        final byte[] first = handshake.serverInfoFrame(clientKey.publicKey());
        final byte[] second = handshake.serverInfoFrame(clientKey.publicKey());

        assertThat(Arrays.copyOfRange(first, 5, 29)).isNotEqualTo(Arrays.copyOfRange(second, 5, 29));
    }

    @Test
    void shouldBuildTheServerKeyFrame()
    {
        final byte[] frame = handshake.serverKeyFrame();

        assertThat(frame).hasSize(45);
        assertThat(Arrays.copyOf(frame, 13)).isEqualTo(HexFormat.of().parseHex("0100000028" + "44455250F09F9491"));
        assertThat(Arrays.copyOfRange(frame, 13, 45)).isEqualTo(serverKey.publicKey().toBytes());
        assertThat(handshake.serverPublicKey()).isEqualTo(serverKey.publicKey());

        frame[0] = 0x7F;
        assertThat(handshake.serverKeyFrame()[0]).as("a copy is returned").isEqualTo((byte)0x01);
    }

    private static void assertViolation(final Runnable action, final Violation violation)
    {
        assertThatThrownBy(action::run)
            .isInstanceOfSatisfying(ProtocolException.class, ex -> assertThat(ex.violation()).isEqualTo(violation));
    }
}
