package io.jderper.core.protocol;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HexFormat;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

class FrameHeaderTest
{
    @Test
    void shouldWriteTypeAndBigEndianLength()
    {
        final byte[] backing = new byte[8];
        final int written = FrameHeader.write(new UnsafeBuffer(backing), 2, FrameType.SEND_PACKET, 0x84);

        assertThat(written).isEqualTo(FrameHeader.LENGTH).isEqualTo(5);
        assertThat(backing).isEqualTo(HexFormat.of().parseHex("0000" + "0400000084" + "00"));
    }

    @Test
    void shouldReadTypeAndLength()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(HexFormat.of().parseHex("AA" + "0500010084"));

        assertThat(FrameHeader.type(buffer, 1)).isEqualTo(FrameType.RECV_PACKET);
        assertThat(FrameHeader.payloadLength(buffer, 1)).isEqualTo(0x10084L);
    }

    @Test
    void shouldReadLengthsAboveTwoToTheThirtyOneAsUnsigned()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(HexFormat.of().parseHex("04FFFFFFFF"));

        assertThat(FrameHeader.payloadLength(buffer, 0)).isEqualTo(0xFFFF_FFFFL);
        assertThat(FrameHeader.payloadLength(new UnsafeBuffer(HexFormat.of().parseHex("0480000000")), 0))
            .isEqualTo(0x8000_0000L);
    }

    @Test
    void shouldNameKnownAndUnknownTypes()
    {
        assertThat(FrameType.name(FrameType.CLIENT_INFO)).isEqualTo("ClientInfo");
        assertThat(FrameType.name(FrameType.RESTARTING)).isEqualTo("Restarting");
        assertThat(FrameType.name((byte)0x0B)).isEqualTo("unknown(0x0b)");
        assertThat(FrameType.name((byte)0xFE)).isEqualTo("unknown(0xfe)");
    }
}
