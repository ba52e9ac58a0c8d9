package io.jderper.core.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class DiscoPacketTest
{
    private static final byte[] MAGIC = {0x54, 0x53, (byte)0xF0, (byte)0x9F, (byte)0x92, (byte)0xAC};

    private static UnsafeBuffer packetAt(final int offset, final int length)
    {
        final byte[] backing = new byte[offset + Math.max(length, MAGIC.length)];
        System.arraycopy(MAGIC, 0, backing, offset, MAGIC.length);
        return new UnsafeBuffer(backing);
    }

    @Test
    void shouldRecogniseMagicWithAtLeastKeyAndNonce()
    {
        assertThat(DiscoPacket.MIN_LENGTH).isEqualTo(62);
        assertThat(DiscoPacket.isDisco(packetAt(0, 62), 0, 62)).isTrue();
        assertThat(DiscoPacket.isDisco(packetAt(13, 100), 13, 100)).isTrue();
    }

    @Test
    void shouldNotTreatShortPacketsWithMagicAsDisco()
    {
        assertThat(DiscoPacket.isDisco(packetAt(0, 61), 0, 61)).isFalse();
        assertThat(DiscoPacket.isDisco(packetAt(0, 6), 0, 6)).isFalse();
        assertThat(DiscoPacket.isDisco(packetAt(0, 0), 0, 0)).isFalse();
    }

    @Test
    void shouldNotTreatOtherBytesAsDisco()
    {
        for (int i = 0; i < MAGIC.length; i++)
        {
            final UnsafeBuffer packet = packetAt(0, 100);
            packet.putByte(i, (byte)(MAGIC[i] ^ 1));
            assertThat(DiscoPacket.isDisco(packet, 0, 100)).as("magic byte %d flipped", i).isFalse();
        }
    }
}
