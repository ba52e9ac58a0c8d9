package io.jderper.stun;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;
import java.util.zip.CRC32;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StunMessagesTest
{
    private static final UnsafeBuffer TXID = new UnsafeBuffer(new byte[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});

    @Test
    void computesTheCrcJavaComputes()
    {
        final SplittableRandom random = new SplittableRandom(5);
        for (int length = 0; length < 100; length++)
        {
            final byte[] bytes = new byte[length + 3];
            random.nextBytes(bytes);
            final CRC32 reference = new CRC32();
            reference.update(bytes, 3, length);

            assertThat(Crc32Ieee.of(new UnsafeBuffer(bytes), 3, length)).isEqualTo((int)reference.getValue());
        }
    }

    @Test
    void refusesAnyChangedByteOfARequest()
    {
        final UnsafeBuffer request = new UnsafeBuffer(new byte[StunMessages.TAILSCALE_REQUEST_LENGTH]);
        StunMessages.writeTailscaleRequest(request, 0, TXID, 0);
        for (int i = 0; i < StunMessages.TAILSCALE_REQUEST_LENGTH; i++)
        {
            // The transaction ID is covered by the fingerprint too, so no single byte may change.
            request.putByte(i, (byte)(request.getByte(i) ^ 0x10));
            assertThat(StunMessages.isTailscaleRequest(request, 0, StunMessages.TAILSCALE_REQUEST_LENGTH))
                .as("byte %d flipped", i).isFalse();
            request.putByte(i, (byte)(request.getByte(i) ^ 0x10));
        }
        assertThat(StunMessages.isTailscaleRequest(request, 0, StunMessages.TAILSCALE_REQUEST_LENGTH)).isTrue();
        assertThat(StunMessages.isTailscaleRequest(request, 0, StunMessages.TAILSCALE_REQUEST_LENGTH - 1)).isFalse();
        assertThat(StunMessages.isTailscaleRequest(request, 0, 19)).isFalse();
    }

    @Test
    void acceptsAnyWellFormedBindingRequestOnlyAsRfc5389Allows()
    {
        final UnsafeBuffer tailscale = new UnsafeBuffer(new byte[StunMessages.TAILSCALE_REQUEST_LENGTH]);
        StunMessages.writeTailscaleRequest(tailscale, 0, TXID, 0);
        assertThat(StunMessages.isBindingRequest(tailscale, 0, StunMessages.TAILSCALE_REQUEST_LENGTH))
            .as("Tailscale's own request is well formed").isTrue();

        final UnsafeBuffer bare = new UnsafeBuffer(new byte[24]);
        bare.putBytes(0, tailscale, 0, StunMessages.HEADER_LENGTH);
        bare.putShort(2, (short)0, java.nio.ByteOrder.BIG_ENDIAN);
        assertThat(StunMessages.isBindingRequest(bare, 0, 20)).as("header only").isTrue();
        assertThat(StunMessages.isTailscaleRequest(bare, 0, 20)).as("no SOFTWARE tailnode").isFalse();
        assertThat(StunMessages.isBindingRequest(bare, 0, 24)).as("length field says 0, datagram has 4 more")
            .isFalse();
        bare.putShort(2, (short)4, java.nio.ByteOrder.BIG_ENDIAN);
        bare.putShort(20, (short)0x0024, java.nio.ByteOrder.BIG_ENDIAN);
        bare.putShort(22, (short)8, java.nio.ByteOrder.BIG_ENDIAN);
        assertThat(StunMessages.isBindingRequest(bare, 0, 24)).as("attribute past the end").isFalse();

        final UnsafeBuffer badFingerprint = new UnsafeBuffer(tailscale.byteArray().clone());
        badFingerprint.putByte(39, (byte)(badFingerprint.getByte(39) ^ 1));
        assertThat(StunMessages.isBindingRequest(badFingerprint, 0, 40)).isFalse();

        // FINGERPRINT first, SOFTWARE after it: a fingerprint must be the last attribute.
        final UnsafeBuffer fingerprintFirst = new UnsafeBuffer(new byte[40]);
        fingerprintFirst.putBytes(0, tailscale, 0, 20);
        fingerprintFirst.putBytes(20, tailscale, 32, 8);
        fingerprintFirst.putBytes(28, tailscale, 20, 12);
        assertThat(StunMessages.isBindingRequest(fingerprintFirst, 0, 40)).isFalse();
    }

    @Test
    void writesTheShortestResponseForEachFamily()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        assertThat(StunMessages.writeSuccessResponse(buffer, 0, TXID, 0, new byte[] {127, 0, 0, 1}, 3478))
            .isEqualTo(StunMessages.RESPONSE_LENGTH_IPV4);
        assertThat(StunMessages.writeSuccessResponse(buffer, 0, TXID, 0, new byte[16], 3478))
            .isEqualTo(StunMessages.RESPONSE_LENGTH_IPV6);
    }

    @Test
    void refusesAnAddressOfAnotherLengthOrABadPort()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        assertThatThrownBy(() -> StunMessages.writeSuccessResponse(buffer, 0, TXID, 0, new byte[5], 1))
            .isInstanceOf(IllegalArgumentException.class).hasMessage("address of 5 bytes, want 4 or 16");
        assertThatThrownBy(() -> StunMessages.writeSuccessResponse(buffer, 0, TXID, 0, new byte[4], 65536))
            .isInstanceOf(IllegalArgumentException.class).hasMessage("port 65536 out of range");
    }

    @Test
    void readsAResponseItWrote()
    {
        final UnsafeBuffer buffer = new UnsafeBuffer(new byte[64]);
        final byte[] address = {(byte)203, 0, 113, 7};
        final int length = StunMessages.writeSuccessResponse(buffer, 0, TXID, 0, address, 40000);
        final BindingResponse response = new BindingResponse();

        assertThat(response.wrap(buffer, 0, length)).isTrue();
        assertThat(response.port()).isEqualTo(40000);
        assertThat(response.isAddress(address, 40000)).isTrue();
        assertThat(response.wrap(buffer, 0, length - 1)).as("shorter than its header says").isFalse();
    }

    @Test
    void readsNoAddressFromARequestOrGarbage()
    {
        final UnsafeBuffer request = new UnsafeBuffer(new byte[StunMessages.TAILSCALE_REQUEST_LENGTH]);
        StunMessages.writeTailscaleRequest(request, 0, TXID, 0);
        final BindingResponse response = new BindingResponse();

        assertThat(response.wrap(request, 0, StunMessages.TAILSCALE_REQUEST_LENGTH)).isFalse();
        assertThat(response.wrap(new UnsafeBuffer(new byte[40]), 0, 40)).isFalse();
    }
}
