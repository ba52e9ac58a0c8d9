package io.jderper.core.key;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.security.SecureRandom;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Locale;

import org.agrona.concurrent.UnsafeBuffer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class KeyTest
{
    private static final HexFormat HEX = HexFormat.of();
    // RFC 7748 section 6.1.
    private static final String ALICE_PRIVATE = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a";
    private static final String ALICE_PUBLIC = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a";
    private static final String BOB_PRIVATE = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb";
    private static final String BOB_PUBLIC = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f";
    private static final String SHARED = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742";

    @Test
    void shouldDerivePublicKeysOfRfc7748Vectors()
    {
        assertThat(NodePrivateKey.fromBytes(HEX.parseHex(ALICE_PRIVATE)).publicKey().toHex()).isEqualTo(ALICE_PUBLIC);
        assertThat(NodePrivateKey.fromBytes(HEX.parseHex(BOB_PRIVATE)).publicKey().toHex()).isEqualTo(BOB_PUBLIC);
    }

    @Test
    void shouldComputeTheRfc7748SharedSecretBothWays()
    {
        final byte[] fromAlice = new byte[32];
        final byte[] fromBob = new byte[32];
        NodePrivateKey.fromBytes(HEX.parseHex(ALICE_PRIVATE)).sharedSecret(HEX.parseHex("00" + BOB_PUBLIC), 1, fromAlice);
        NodePrivateKey.fromBytes(HEX.parseHex(BOB_PRIVATE)).sharedSecret(HEX.parseHex(ALICE_PUBLIC), 0, fromBob);

        assertThat(HEX.formatHex(fromAlice)).isEqualTo(SHARED);
        assertThat(HEX.formatHex(fromBob)).isEqualTo(SHARED);
    }

    @Test
    void shouldClampPrivateKeysAsTailscaleDoes()
    {
        final byte[] raw = new byte[32];
        Arrays.fill(raw, (byte)0xFF);

        final NodePrivateKey key = NodePrivateKey.fromBytes(raw);

        // byte0 &= 248; byte31 = (byte31 & 127) | 64.
        assertThat(key.toText()).isEqualTo("privkey:f8" + "ff".repeat(30) + "7f");
        assertThat(NodePrivateKey.fromBytes(new byte[32]).toText()).isEqualTo("privkey:" + "00".repeat(31) + "40");
        assertThat(raw).as("input is copied, not clamped in place").containsOnly((byte)0xFF);
    }

    @Test
    void shouldClampTheRfcVectorWithoutChangingItsPublicKey()
    {
        final NodePrivateKey key = NodePrivateKey.fromBytes(HEX.parseHex(ALICE_PRIVATE));

        assertThat(key.toText()).isEqualTo("privkey:70076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c6a");
        assertThat(key).isEqualTo(NodePrivateKey.parse(key.toText()));
        assertThat(NodePrivateKey.parse(key.toText()).publicKey().toHex()).isEqualTo(ALICE_PUBLIC);
    }

    @Test
    void shouldGenerateClampedKeys()
    {
        final SecureRandom random = new SecureRandom();
        for (int i = 0; i < 32; i++)
        {
            final byte[] raw = HEX.parseHex(NodePrivateKey.generate(random).toText().substring("privkey:".length()));
            assertThat(raw[0] & 7).isZero();
            assertThat(raw[31] & 0xC0).isEqualTo(0x40);
        }
    }

    @Test
    void shouldRoundTripPrivateKeyText()
    {
        final NodePrivateKey key = NodePrivateKey.generate(new SecureRandom());

        final String text = key.toText();
        final NodePrivateKey parsed = NodePrivateKey.parse(text);

        assertThat(text).startsWith("privkey:").hasSize(8 + 64).isLowerCase();
        assertThat(parsed).isEqualTo(key).hasSameHashCodeAs(key);
        assertThat(parsed.publicKey()).isEqualTo(key.publicKey());
        assertThat(NodePrivateKey.parse(text.toUpperCase(Locale.ROOT).replace("PRIVKEY:", "privkey:")))
            .isEqualTo(key);
    }

    @Test
    void shouldNotPrintThePrivateKey()
    {
        final NodePrivateKey key = NodePrivateKey.fromBytes(HEX.parseHex(ALICE_PRIVATE));

        assertThat(key.toString()).doesNotContain("70076d0a").contains(ALICE_PUBLIC);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "70076d0a", "nodekey:70076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c6a",
        "privkey:", "privkey:70076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c",
        "privkey:70076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c6a00",
        "privkey:z0076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c6a",
        "70076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c6a"})
    void shouldRejectMalformedPrivateKeyText(final String text)
    {
        assertThatThrownBy(() -> NodePrivateKey.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 31, 33, 64})
    void shouldRejectRawKeysOfWrongLength(final int length)
    {
        assertThatThrownBy(() -> NodePrivateKey.fromBytes(new byte[length])).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NodePublicKey.fromBytes(new byte[length])).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldParseNodePublicKeyWithOrWithoutPrefixInEitherCase()
    {
        final NodePublicKey expected = NodePublicKey.fromBytes(HEX.parseHex(ALICE_PUBLIC));

        assertThat(NodePublicKey.parse("nodekey:" + ALICE_PUBLIC)).isEqualTo(expected);
        assertThat(NodePublicKey.parse("nodekey:" + ALICE_PUBLIC.toUpperCase(Locale.ROOT))).isEqualTo(expected);
        assertThat(NodePublicKey.parse(ALICE_PUBLIC)).isEqualTo(expected).hasSameHashCodeAs(expected);
        assertThat(expected.toString()).isEqualTo("nodekey:" + ALICE_PUBLIC);
        assertThat(expected.toHex()).isEqualTo(ALICE_PUBLIC);
        assertThat(expected.toShortString()).isEqualTo("[8520f009]");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "nodekey:", "nodekey:8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e",
        "nodekey:8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a6a",
        "nodekey:8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6g",
        "discokey:8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a",
        " 8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"})
    void shouldRejectMalformedNodePublicKeyText(final String text)
    {
        assertThatThrownBy(() -> NodePublicKey.parse(text)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shouldCopyBytesInAndOut()
    {
        final byte[] raw = HEX.parseHex(ALICE_PUBLIC);
        final NodePublicKey key = NodePublicKey.fromBytes(raw);
        raw[0] = 0;
        final byte[] out = key.toBytes();
        out[1] = 0;

        assertThat(key.toHex()).isEqualTo(ALICE_PUBLIC);
        final byte[] target = new byte[40];
        key.copyTo(target, 5);
        assertThat(Arrays.copyOfRange(target, 5, 37)).isEqualTo(HEX.parseHex(ALICE_PUBLIC));
    }

    @Test
    void shouldReadKeyFromBufferOffset()
    {
        final byte[] backing = new byte[50];
        System.arraycopy(HEX.parseHex(ALICE_PUBLIC), 0, backing, 9, 32);

        assertThat(NodePublicKey.fromBuffer(new UnsafeBuffer(backing), 9).toHex()).isEqualTo(ALICE_PUBLIC);
    }

    @Test
    void shouldRecogniseOnlyTheAllZeroKeyAsZero()
    {
        assertThat(NodePublicKey.fromBytes(new byte[32]).isZero()).isTrue();
        assertThat(NodePublicKey.parse("nodekey:" + "00".repeat(32)).isZero()).isTrue();
        for (final int index : new int[] {0, 17, 31})
        {
            final byte[] raw = new byte[32];
            raw[index] = (byte)0x80;
            assertThat(NodePublicKey.fromBytes(raw).isZero()).as("bit set at %d", index).isFalse();
        }
        assertThat(NodePublicKey.parse(ALICE_PUBLIC).isZero()).isFalse();
    }

    @Test
    void shouldEncodeLowerAndDecodeEitherCaseHex()
    {
        assertThat(KeyHex.encode(HEX.parseHex(ALICE_PUBLIC.toUpperCase(Locale.ROOT)))).isEqualTo(ALICE_PUBLIC);
        assertThat(KeyHex.decode("k", "AbCdEf" + "0".repeat(58))).startsWith((byte)0xAB, (byte)0xCD, (byte)0xEF);
        assertThatThrownBy(() -> KeyHex.decode("meshKey", null))
            .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("meshKey");
        assertThatThrownBy(() -> KeyHex.decode("meshKey", "+1" + "0".repeat(62)))
            .isInstanceOf(IllegalArgumentException.class);
    }
}
