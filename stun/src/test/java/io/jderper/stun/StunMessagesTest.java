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
