package io.jderper.core.protocol;

import static org.bouncycastle.util.Arrays.concatenate;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.function.ToIntFunction;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ControlFramesTest
{
    private static final HexFormat HEX = HexFormat.of();

    private static byte[] key(final int first)
    {
        final byte[] key = new byte[32];
        for (int i = 0; i < key.length; i++)
        {
            key[i] = (byte)(first + i);
        }
        return key;
    }

    /** Encodes into the middle of a poisoned buffer, then checks nothing outside the frame was touched. */
    private static byte[] encodeAt(final int offset, final ToIntFunction<UnsafeBuffer> encoder)
    {
        final byte[] backing = new byte[offset + 200];
        Arrays.fill(backing, (byte)0xEE);
        final UnsafeBuffer buffer = new UnsafeBuffer(backing);
        final int length = encoder.applyAsInt(buffer);
        for (int i = 0; i < offset; i++)
        {
            assertThat(backing[i]).as("byte %d before the frame", i).isEqualTo((byte)0xEE);
        }
        for (int i = offset + length; i < backing.length; i++)
        {
            assertThat(backing[i]).as("byte %d after the frame", i).isEqualTo((byte)0xEE);
        }
        return Arrays.copyOfRange(backing, offset, offset + length);
    }

    @Test
    void shouldEncodeServerKeyAsAppendixA()
    {
        final byte[] serverKey = key(0xA0);
        final byte[] frame = encodeAt(7, buffer -> ControlFrames.serverKey(buffer, 7, serverKey));

        assertThat(frame).hasSize(45).hasSize(ControlFrames.SERVER_KEY_FRAME_LENGTH);
        assertThat(frame).isEqualTo(concatenate(HEX.parseHex("0100000028" + "44455250F09F9491"), serverKey));
    }

    @Test
    void shouldExposeTheDerpMagicAsACopy()
    {
        final byte[] magic = ControlFrames.magic();
        assertThat(magic).isEqualTo(HEX.parseHex("44455250F09F9491"));
        assertThat(new String(magic, StandardCharsets.UTF_8)).isEqualTo("DERP\uD83D\uDD11");

        magic[0] = 0;
        assertThat(ControlFrames.magic()).startsWith(0x44);
    }

    @Test
    void shouldEncodeKeepAliveAsAppendixA()
    {
        final byte[] frame = encodeAt(3, buffer -> ControlFrames.keepAlive(buffer, 3));

        assertThat(frame).isEqualTo(HEX.parseHex("0600000000"));
        assertThat(ControlFrames.KEEP_ALIVE_FRAME_LENGTH).isEqualTo(5);
    }

    @Test
    void shouldEncodePongWithThePingBytesInWireOrder()
    {
        final byte[] frame = encodeAt(11, buffer -> ControlFrames.pong(buffer, 11, 0x0102030405060708L));

        assertThat(frame).isEqualTo(HEX.parseHex("1300000008" + "0102030405060708"));
        assertThat(ControlFrames.PONG_FRAME_LENGTH).isEqualTo(13);
    }

    @Test
    void shouldEncodePeerGoneNotHereAsAppendixA()
    {
        final byte[] peer = key(0x40);
        final byte[] holder = concatenate(new byte[9], peer, new byte[4]);
        final byte[] frame = encodeAt(1, buffer ->
            ControlFrames.peerGone(buffer, 1, new UnsafeBuffer(holder), 9, PeerGoneReason.NOT_HERE));

        assertThat(frame).isEqualTo(concatenate(HEX.parseHex("0800000021"), peer, HEX.parseHex("01")));
        assertThat(ControlFrames.PEER_GONE_FRAME_LENGTH).isEqualTo(38);
    }

    @Test
    void shouldEncodePeerGoneDisconnected()
    {
        final byte[] peer = key(0x10);
        final byte[] frame = encodeAt(0, buffer ->
            ControlFrames.peerGone(buffer, 0, new UnsafeBuffer(peer), 0, PeerGoneReason.DISCONNECTED));

        assertThat(frame).isEqualTo(concatenate(HEX.parseHex("0800000021"), peer, HEX.parseHex("00")));
    }

    @Test
    void shouldEncodePeerPresentAsAppendixA()
    {
        final byte[] peer = key(0x70);
        final byte[] ip16 = HEX.parseHex("00000000000000000000FFFFC6336407");
        final byte[] frame = encodeAt(5, buffer ->
            ControlFrames.peerPresent(buffer, 5, peer, ip16, 41641, PeerPresentFlags.of(false, false, false)));

        assertThat(frame).hasSize(56).hasSize(ControlFrames.PEER_PRESENT_FRAME_LENGTH);
        assertThat(frame).isEqualTo(concatenate(
            HEX.parseHex("0900000033"), peer, HEX.parseHex("00000000000000000000FFFFC6336407" + "A2A9" + "01")));
    }

    @Test
    void shouldEncodePeerPresentPortAboveSignedShortRange()
    {
        final byte[] frame = encodeAt(0, buffer ->
            ControlFrames.peerPresent(buffer, 0, key(0), new byte[16], 65535, PeerPresentFlags.MESH_PEER));

        assertThat(Arrays.copyOfRange(frame, 5 + 32 + 16, frame.length)).isEqualTo(HEX.parseHex("FFFF02"));
    }

    @Test
    void shouldEncodeRestartingAsAppendixA()
    {
        final byte[] frame = encodeAt(2, buffer -> ControlFrames.restarting(buffer, 2, 1000, 5000));

        assertThat(frame).isEqualTo(HEX.parseHex("1500000008" + "000003E8" + "00001388"));
        assertThat(ControlFrames.RESTARTING_FRAME_LENGTH).isEqualTo(13);
    }

    @ParameterizedTest
    @CsvSource({
        "false, false, false, 0x01",
        "true,  false, false, 0x02",
        "false, true,  false, 0x04",
        "false, false, true,  0x08",
        "true,  true,  false, 0x06",
        "true,  false, true,  0x0A",
        "false, true,  true,  0x0C",
        "true,  true,  true,  0x0E",
    })
    void shouldSetRegularOnlyWhenNoOtherPeerPresentFlagApplies(
        final boolean mesh, final boolean prober, final boolean notIdeal, final String expected)
    {
        assertThat(PeerPresentFlags.of(mesh, prober, notIdeal)).isEqualTo((byte)Integer.parseInt(expected.substring(2), 16));
    }

    @Test
    void shouldUseSpecFlagBitValues()
    {
        assertThat(PeerPresentFlags.REGULAR).isEqualTo((byte)0x01);
        assertThat(PeerPresentFlags.MESH_PEER).isEqualTo((byte)0x02);
        assertThat(PeerPresentFlags.PROBER).isEqualTo((byte)0x04);
        assertThat(PeerPresentFlags.NOT_IDEAL).isEqualTo((byte)0x08);
        assertThat(PeerGoneReason.DISCONNECTED).isEqualTo((byte)0x00);
        assertThat(PeerGoneReason.NOT_HERE).isEqualTo((byte)0x01);
    }
}
