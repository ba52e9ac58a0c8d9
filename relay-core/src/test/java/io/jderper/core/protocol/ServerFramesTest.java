package io.jderper.core.protocol;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.HexFormat;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ServerFramesTest
{
    private static final byte[] KEY = HexFormat.of().parseHex(
        "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f20");

    @Test
    void shouldReadWhatControlFramesWrite()
    {
        final UnsafeBuffer frame = new UnsafeBuffer(new byte[128]);
        final byte[] ip16 = HexFormat.of().parseHex("00000000000000000000ffffc6336407");
        final int length = ControlFrames.peerPresent(frame, 0, KEY, ip16, 41641, PeerPresentFlags.PROBER);
        final int payload = length - FrameHeader.LENGTH;
        assertThat(ServerFrames.peerPresentHasAddress(payload)).isTrue();
        assertThat(ServerFrames.peerPresentPort(frame, FrameHeader.LENGTH, payload)).isEqualTo(41641);
        assertThat(ServerFrames.peerPresentFlags(frame, FrameHeader.LENGTH, payload)).isEqualTo(PeerPresentFlags.PROBER);

        ControlFrames.peerGone(frame, 0, new UnsafeBuffer(KEY), 0, PeerGoneReason.NOT_HERE);
        assertThat(ServerFrames.peerGoneReason(frame, FrameHeader.LENGTH, ProtocolLimits.PEER_GONE_LENGTH))
            .isEqualTo(PeerGoneReason.NOT_HERE);

        ControlFrames.restarting(frame, 0, 1000, 5000);
        assertThat(ServerFrames.restartingReconnectInMs(frame, FrameHeader.LENGTH, 8)).isEqualTo(1000);
        assertThat(ServerFrames.restartingTryForMs(frame, FrameHeader.LENGTH, 8)).isEqualTo(5000);

        ControlFrames.serverKey(frame, 0, KEY);
        final int keyAt = ServerFrames.serverKeyOffset(frame, FrameHeader.LENGTH, ProtocolLimits.SERVER_KEY_LENGTH);
        final byte[] key = new byte[32];
        frame.getBytes(keyAt, key);
        assertThat(key).isEqualTo(KEY);
    }

    @Test
    void shouldAcceptTheOlderShortForms()
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[64]);
        payload.putBytes(0, KEY);
        assertThat(ServerFrames.peerGoneReason(payload, 0, 32)).isEqualTo(PeerGoneReason.DISCONNECTED);
        assertThat(ServerFrames.peerPresentHasAddress(32)).isFalse();
        assertThat(ServerFrames.peerPresentPort(payload, 0, 32)).isZero();
        payload.putShort(48, (short)0xA2A9, java.nio.ByteOrder.BIG_ENDIAN);
        assertThat(ServerFrames.peerPresentPort(payload, 0, 50)).isEqualTo(0xA2A9);
        assertThat(ServerFrames.peerPresentFlags(payload, 0, 50)).as("no flags byte").isZero();
        assertThat(ServerFrames.restartingReconnectInMs(payload, 0, 7)).isEqualTo(-1);
        assertThat(ServerFrames.isValidRecvPacket(31)).isFalse();
        assertThat(ServerFrames.isValidRecvPacket(32)).isTrue();
    }

    @Test
    void shouldRefuseAServerKeyWithoutMagic()
    {
        final UnsafeBuffer payload = new UnsafeBuffer(new byte[40]);
        assertThatThrownBy(() -> ServerFrames.serverKeyOffset(payload, 0, 40)).isInstanceOf(ProtocolException.class);
        assertThatThrownBy(() -> ServerFrames.serverKeyOffset(payload, 0, 39)).isInstanceOf(ProtocolException.class);
    }

    @Test
    void shouldRefuseOversizedPacketsWhenEncoding()
    {
        final UnsafeBuffer out = new UnsafeBuffer(new byte[128]);
        assertThatThrownBy(() -> ClientFrames.sendPacketPrefix(out, 0, new UnsafeBuffer(KEY), 0,
            ProtocolLimits.MAX_PACKET_SIZE + 1)).isInstanceOf(IllegalArgumentException.class);
        assertThat(ClientFrames.sendPacketPrefix(out, 0, new UnsafeBuffer(KEY), 0, ProtocolLimits.MAX_PACKET_SIZE))
            .isEqualTo(ClientFrames.SEND_PACKET_PREFIX_LENGTH);
        assertThat(FrameHeader.payloadLength(out, 0)).isEqualTo(ProtocolLimits.MAX_SEND_PACKET_LENGTH);
    }
}
