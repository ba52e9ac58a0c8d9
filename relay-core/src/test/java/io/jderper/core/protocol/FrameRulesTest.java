package io.jderper.core.protocol;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class FrameRulesTest
{
    private static final long MAX_SEND = 32 + 65_536;
    private static final long MAX_FORWARD = 64 + 65_536;

    @ParameterizedTest
    @ValueSource(longs = {32, 33, 1_000, MAX_SEND})
    void shouldBufferSendPacketWithinLimits(final long length)
    {
        assertThat(FrameRules.check(FrameType.SEND_PACKET, length, false)).isEqualTo(FrameRules.BUFFER);
        assertThat(FrameRules.check(FrameType.SEND_PACKET, length, true)).isEqualTo(FrameRules.BUFFER);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 1, 31})
    void shouldCloseOnSendPacketShorterThanKey(final long length)
    {
        assertViolation(() -> FrameRules.check(FrameType.SEND_PACKET, length, false), Violation.FRAME_LENGTH);
    }

    @ParameterizedTest
    @ValueSource(longs = {MAX_SEND + 1, 1L << 20, 0xFFFF_FFFFL})
    void shouldCloseOnSendPacketLongerThanMaxPacket(final long length)
    {
        assertViolation(() -> FrameRules.check(FrameType.SEND_PACKET, length, false), Violation.FRAME_TOO_LARGE);
    }

    @Test
    void shouldAgreeWithProtocolLimitsOnPacketSizes()
    {
        assertThat(ProtocolLimits.MAX_PACKET_SIZE).isEqualTo(65_536);
        assertThat(ProtocolLimits.MAX_SEND_PACKET_LENGTH).isEqualTo(65_568);
        assertThat(ProtocolLimits.MAX_FORWARD_PACKET_LENGTH).isEqualTo(65_600);
    }

    @ParameterizedTest
    @ValueSource(longs = {64, 100, MAX_FORWARD})
    void shouldBufferForwardPacketFromMeshPeer(final long length)
    {
        assertThat(FrameRules.check(FrameType.FORWARD_PACKET, length, true)).isEqualTo(FrameRules.BUFFER);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 64, 100, MAX_FORWARD})
    void shouldCloseOnForwardPacketWithoutMeshPrivilege(final long length)
    {
        assertViolation(() -> FrameRules.check(FrameType.FORWARD_PACKET, length, false), Violation.NOT_PRIVILEGED);
    }

    @Test
    void shouldCloseOnForwardPacketOutsideItsLengths()
    {
        assertViolation(() -> FrameRules.check(FrameType.FORWARD_PACKET, 63, true), Violation.FRAME_LENGTH);
        assertViolation(() -> FrameRules.check(FrameType.FORWARD_PACKET, 32, true), Violation.FRAME_LENGTH);
        assertViolation(
            () -> FrameRules.check(FrameType.FORWARD_PACKET, MAX_FORWARD + 1, true), Violation.FRAME_TOO_LARGE);
    }

    @Test
    void shouldAcceptNotePreferredOfExactlyOneByte()
    {
        assertThat(FrameRules.check(FrameType.NOTE_PREFERRED, 1, false)).isEqualTo(FrameRules.BUFFER);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 2, 32, 0xFFFF_FFFFL})
    void shouldCloseOnNotePreferredOfAnyOtherLength(final long length)
    {
        assertViolation(() -> FrameRules.check(FrameType.NOTE_PREFERRED, length, false), Violation.FRAME_LENGTH);
        assertViolation(() -> FrameRules.check(FrameType.NOTE_PREFERRED, length, true), Violation.FRAME_LENGTH);
    }

    @Test
    void shouldAcceptEmptyWatchConnsOnlyFromMeshPeer()
    {
        assertThat(FrameRules.check(FrameType.WATCH_CONNS, 0, true)).isEqualTo(FrameRules.BUFFER);
        assertViolation(() -> FrameRules.check(FrameType.WATCH_CONNS, 0, false), Violation.NOT_PRIVILEGED);
    }

    @ParameterizedTest
    @ValueSource(longs = {1, 8, 32})
    void shouldCloseOnWatchConnsWithPayload(final long length)
    {
        assertViolation(() -> FrameRules.check(FrameType.WATCH_CONNS, length, true), Violation.FRAME_LENGTH);
    }

    @Test
    void shouldAcceptClosePeerOfOneKeyOnlyFromMeshPeer()
    {
        assertThat(FrameRules.check(FrameType.CLOSE_PEER, 32, true)).isEqualTo(FrameRules.BUFFER);
        assertViolation(() -> FrameRules.check(FrameType.CLOSE_PEER, 32, false), Violation.NOT_PRIVILEGED);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 31, 33, 64})
    void shouldCloseOnClosePeerOfWrongLength(final long length)
    {
        assertViolation(() -> FrameRules.check(FrameType.CLOSE_PEER, length, true), Violation.FRAME_LENGTH);
    }

    @ParameterizedTest
    @ValueSource(longs = {8, 9, 500, 1000})
    void shouldBufferPingOfEightToThousandBytes(final long length)
    {
        assertThat(FrameRules.check(FrameType.PING, length, false)).isEqualTo(FrameRules.BUFFER);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 7, 1001, 65_536})
    void shouldCloseOnPingOutsideEightToThousandBytes(final long length)
    {
        assertViolation(() -> FrameRules.check(FrameType.PING, length, false), Violation.FRAME_LENGTH);
    }

    @ParameterizedTest
    @CsvSource({
        "0x13, 0", "0x13, 8", "0x13, 4294967295",
        "0x06, 0", "0x06, 100",
        "0x00, 0", "0x0B, 12", "0x0F, 1048576", "0x16, 3", "0x7F, 4294967295", "0xFF, 1",
        "0x01, 40", "0x02, 104", "0x03, 53", "0x05, 40", "0x08, 33", "0x09, 51", "0x14, 9", "0x15, 8",
    })
    void shouldSkipUnknownAndIgnoredTypesAtAnyLength(final String type, final long length)
    {
        final byte typeByte = (byte)Integer.parseInt(type.substring(2), 16);
        assertThat(FrameRules.check(typeByte, length, false)).isEqualTo(FrameRules.SKIP);
        assertThat(FrameRules.check(typeByte, length, true)).isEqualTo(FrameRules.SKIP);
    }

    @ParameterizedTest
    @ValueSource(longs = {56, 57, 104, 262_144})
    void shouldAcceptClientInfoAsFirstFrame(final long length)
    {
        FrameRules.checkFirstFrame(FrameType.CLIENT_INFO, length);
    }

    @ParameterizedTest
    @ValueSource(longs = {0, 32, 55, 262_145, 0xFFFF_FFFFL})
    void shouldRejectClientInfoOutsideItsLengths(final long length)
    {
        assertViolation(() -> FrameRules.checkFirstFrame(FrameType.CLIENT_INFO, length), Violation.CLIENT_INFO_LENGTH);
    }

    @ParameterizedTest
    @ValueSource(bytes = {0x00, 0x01, 0x03, 0x04, 0x06, 0x12, 0x7F, (byte)0xFF})
    void shouldRejectAnyOtherFirstFrame(final byte type)
    {
        assertViolation(() -> FrameRules.checkFirstFrame(type, 104), Violation.FIRST_FRAME_NOT_CLIENT_INFO);
    }

    private static void assertViolation(final Runnable check, final Violation violation)
    {
        assertThatThrownBy(check::run)
            .isInstanceOfSatisfying(ProtocolException.class, ex -> assertThat(ex.violation()).isEqualTo(violation));
    }
}
