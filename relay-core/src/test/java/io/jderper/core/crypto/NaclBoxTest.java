package io.jderper.core.crypto;

import static org.bouncycastle.util.Arrays.concatenate;
import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigInteger;
import java.security.KeyFactory;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.security.spec.NamedParameterSpec;
import java.security.spec.XECPrivateKeySpec;
import java.security.spec.XECPublicKeySpec;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Optional;
import java.util.Random;

import javax.crypto.KeyAgreement;

import io.jderper.core.key.NodePrivateKey;
import org.bouncycastle.crypto.macs.Poly1305;
import org.bouncycastle.crypto.params.KeyParameter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The box is checked three ways: against the published NaCl/libsodium vectors (the "Cryptography in NaCl" paper's
 * Alice/Bob example, libsodium {@code test/default/box.c} and {@code box.exp}), against an independent reference
 * built here from the JDK's X25519 and a from-scratch Salsa20 core, and for self-consistency.
 */
class NaclBoxTest
{
    private static final HexFormat HEX = HexFormat.of();

    // RFC 7748 section 6.1 / NaCl paper key pairs.
    private static final byte[] ALICE_SK = HEX.parseHex("77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a");
    private static final byte[] ALICE_PK = HEX.parseHex("8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
    private static final byte[] BOB_SK = HEX.parseHex("5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb");
    private static final byte[] BOB_PK = HEX.parseHex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f");
    private static final byte[] SHARED = HEX.parseHex("4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
    /** {@code crypto_box_beforenm(bobpk, alicesk)}: HSalsa20 of the shared secret, "firstkey" in the NaCl paper. */
    private static final byte[] FIRST_KEY = HEX.parseHex("1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389");
    private static final byte[] NONCE = HEX.parseHex("69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37");
    private static final byte[] MESSAGE = HEX.parseHex(
        "be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c6129" +
        "6cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde" +
        "048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705");
    /** libsodium box.exp: tag (16) then ciphertext (131). */
    private static final byte[] TAG_AND_CIPHERTEXT = HEX.parseHex(
        "f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186a" +
        "c0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae" +
        "90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74" +
        "e355a5");

    private final SecureRandom random = new SecureRandom();

    @Test
    void shouldSealTheNaclPaperVectorByteForByte()
    {
        final byte[] box = NaclBox.seal(
            NodePrivateKey.fromBytes(ALICE_SK), BOB_PK, MESSAGE, new FixedNonce(NONCE));

        assertThat(box).hasSize(NaclBox.OVERHEAD + MESSAGE.length);
        assertThat(HEX.formatHex(box)).isEqualTo(HEX.formatHex(concatenate(NONCE, TAG_AND_CIPHERTEXT)));
    }

    @Test
    void shouldOpenTheNaclPaperVectorAsBob()
    {
        final byte[] box = concatenate(NONCE, TAG_AND_CIPHERTEXT);

        final Optional<byte[]> opened = NaclBox.open(NodePrivateKey.fromBytes(BOB_SK), ALICE_PK, 0, box, 0, box.length);

        assertThat(opened).isPresent();
        assertThat(opened.get()).isEqualTo(MESSAGE);
    }

    @Test
    void shouldOpenAtOffsetsInsideLargerArrays()
    {
        final byte[] senderHolder = concatenate(new byte[7], ALICE_PK, new byte[3]);
        final byte[] boxHolder = concatenate(new byte[11], NONCE, TAG_AND_CIPHERTEXT, new byte[5]);

        final Optional<byte[]> opened = NaclBox.open(
            NodePrivateKey.fromBytes(BOB_SK), senderHolder, 7, boxHolder, 11, NaclBox.OVERHEAD + MESSAGE.length);

        assertThat(opened).hasValueSatisfying(plain -> assertThat(plain).isEqualTo(MESSAGE));
    }

    @Test
    void shouldAgreeWithTheIndependentReferenceOnTheNaclVector()
    {
        // Validates the reference itself before it is used on random inputs below.
        assertThat(x25519(ALICE_SK, BOB_PK)).isEqualTo(SHARED);
        assertThat(hsalsa20(SHARED, new byte[16])).isEqualTo(FIRST_KEY);
        assertThat(referenceSeal(ALICE_SK, BOB_PK, NONCE, MESSAGE)).isEqualTo(concatenate(NONCE, TAG_AND_CIPHERTEXT));
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 13, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1000, 4096})
    void shouldMatchTheIndependentReferenceForRandomKeysAndLengths(final int length)
    {
        final Random seeded = new Random(length * 31L + 7);
        final byte[] senderRaw = bytes(seeded, 32);
        final NodePrivateKey sender = NodePrivateKey.fromBytes(senderRaw);
        final NodePrivateKey recipient = NodePrivateKey.generate(random);
        final byte[] nonce = bytes(seeded, 24);
        final byte[] message = bytes(seeded, length);

        final byte[] box = NaclBox.seal(sender, recipient.publicKey().toBytes(), message, new FixedNonce(nonce));

        assertThat(box).isEqualTo(referenceSeal(senderRaw, recipient.publicKey().toBytes(), nonce, message));
    }

    @Test
    void shouldRoundTripBetweenTwoNodeKeys()
    {
        final NodePrivateKey client = NodePrivateKey.generate(random);
        final NodePrivateKey server = NodePrivateKey.generate(random);
        final byte[] message = "{\"version\":2,\"CanAckPings\":true}".getBytes(StandardCharsets.UTF_8);

        final byte[] box = NaclBox.seal(client, server.publicKey().toBytes(), message, random);
        final Optional<byte[]> opened = NaclBox.open(server, client.publicKey().toBytes(), 0, box, 0, box.length);

        assertThat(opened).hasValueSatisfying(plain -> assertThat(plain).isEqualTo(message));
        // Same shared secret both ways: the reply direction opens too.
        final byte[] reply = NaclBox.seal(server, client.publicKey().toBytes(), message, random);
        assertThat(NaclBox.open(client, server.publicKey().toBytes(), 0, reply, 0, reply.length)).isPresent();
    }

    @Test
    void shouldUseAFreshNonceForEverySeal()
    {
        final NodePrivateKey client = NodePrivateKey.generate(random);
        final byte[] to = NodePrivateKey.generate(random).publicKey().toBytes();

        final byte[] first = NaclBox.seal(client, to, new byte[8], random);
        final byte[] second = NaclBox.seal(client, to, new byte[8], random);

        assertThat(Arrays.copyOf(first, NaclBox.NONCE_LENGTH)).isNotEqualTo(Arrays.copyOf(second, NaclBox.NONCE_LENGTH));
    }

    @Test
    void shouldRoundTripAnEmptyMessage()
    {
        final NodePrivateKey a = NodePrivateKey.generate(random);
        final NodePrivateKey b = NodePrivateKey.generate(random);

        final byte[] box = NaclBox.seal(a, b.publicKey().toBytes(), new byte[0], random);

        assertThat(box).hasSize(NaclBox.OVERHEAD);
        assertThat(NaclBox.open(b, a.publicKey().toBytes(), 0, box, 0, box.length))
            .hasValueSatisfying(plain -> assertThat(plain).isEmpty());
    }

    @Test
    void shouldRejectEveryFlippedBitOfNonceTagOrCiphertext()
    {
        final byte[] valid = concatenate(NONCE, TAG_AND_CIPHERTEXT);
        final NodePrivateKey bob = NodePrivateKey.fromBytes(BOB_SK);
        for (int i = 0; i < valid.length; i++)
        {
            for (int bit = 0; bit < 8; bit += 7)
            {
                final byte[] tampered = valid.clone();
                tampered[i] ^= (byte)(1 << bit);
                assertThat(NaclBox.open(bob, ALICE_PK, 0, tampered, 0, tampered.length))
                    .as("byte %d bit %d flipped", i, bit).isEmpty();
            }
        }
    }

    @Test
    void shouldRejectTheWrongSenderOrRecipient()
    {
        final byte[] box = concatenate(NONCE, TAG_AND_CIPHERTEXT);
        final NodePrivateKey stranger = NodePrivateKey.generate(random);

        assertThat(NaclBox.open(stranger, ALICE_PK, 0, box, 0, box.length)).isEmpty();
        assertThat(NaclBox.open(NodePrivateKey.fromBytes(BOB_SK), stranger.publicKey().toBytes(), 0, box, 0,
            box.length)).isEmpty();
    }

    @Test
    void shouldRejectTruncatedOrExtendedBoxes()
    {
        final byte[] box = concatenate(NONCE, TAG_AND_CIPHERTEXT);
        final NodePrivateKey bob = NodePrivateKey.fromBytes(BOB_SK);

        assertThat(NaclBox.open(bob, ALICE_PK, 0, box, 0, box.length - 1)).isEmpty();
        final byte[] longer = concatenate(box, new byte[1]);
        assertThat(NaclBox.open(bob, ALICE_PK, 0, longer, 0, longer.length)).isEmpty();
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 23, 24, 39})
    void shouldRejectBoxesShorterThanNonceAndTag(final int length)
    {
        final byte[] box = Arrays.copyOf(concatenate(NONCE, TAG_AND_CIPHERTEXT), length);

        assertThat(NaclBox.open(NodePrivateKey.fromBytes(BOB_SK), ALICE_PK, 0, box, 0, length)).isEmpty();
    }

    // ---- Independent reference: JDK X25519, Salsa20 core written out from the specification, BouncyCastle Poly1305.

    private static byte[] referenceSeal(final byte[] senderSk, final byte[] recipientPk, final byte[] nonce,
        final byte[] message)
    {
        final byte[] k = hsalsa20(x25519(senderSk, recipientPk), new byte[16]);
        final byte[] subKey = hsalsa20(k, Arrays.copyOf(nonce, 16));
        final byte[] stream = salsa20Stream(subKey, Arrays.copyOfRange(nonce, 16, 24), 32 + message.length);
        final byte[] ciphertext = new byte[message.length];
        for (int i = 0; i < message.length; i++)
        {
            ciphertext[i] = (byte)(message[i] ^ stream[32 + i]);
        }
        final Poly1305 poly = new Poly1305();
        poly.init(new KeyParameter(Arrays.copyOf(stream, 32)));
        poly.update(ciphertext, 0, ciphertext.length);
        final byte[] tag = new byte[16];
        poly.doFinal(tag, 0);
        return concatenate(nonce, tag, ciphertext);
    }

    private static byte[] x25519(final byte[] scalar, final byte[] uCoordinate)
    {
        try
        {
            final KeyFactory factory = KeyFactory.getInstance("XDH");
            final byte[] u = uCoordinate.clone();
            u[31] &= 0x7F;
            final byte[] bigEndian = new byte[32];
            for (int i = 0; i < 32; i++)
            {
                bigEndian[i] = u[31 - i];
            }
            final KeyAgreement agreement = KeyAgreement.getInstance("X25519");
            agreement.init(factory.generatePrivate(new XECPrivateKeySpec(NamedParameterSpec.X25519, scalar.clone())));
            agreement.doPhase(factory.generatePublic(
                new XECPublicKeySpec(NamedParameterSpec.X25519, new BigInteger(1, bigEndian))), true);
            return agreement.generateSecret();
        }
        catch (final java.security.GeneralSecurityException ex)
        {
            throw new AssertionError(ex);
        }
    }

    private static byte[] hsalsa20(final byte[] key, final byte[] input16)
    {
        final int[] x = initialState(key, input16);
        doubleRounds(x);
        final int[] words = {0, 5, 10, 15, 6, 7, 8, 9};
        final byte[] out = new byte[32];
        for (int i = 0; i < words.length; i++)
        {
            putLittleEndian(x[words[i]], out, 4 * i);
        }
        return out;
    }

    private static byte[] salsa20Stream(final byte[] key, final byte[] nonce8, final int length)
    {
        final byte[] out = new byte[length];
        for (long block = 0; 64 * block < length; block++)
        {
            final byte[] input = new byte[16];
            System.arraycopy(nonce8, 0, input, 0, 8);
            for (int i = 0; i < 8; i++)
            {
                input[8 + i] = (byte)(block >>> (8 * i));
            }
            final int[] initial = initialState(key, input);
            final int[] x = initial.clone();
            doubleRounds(x);
            final byte[] keystream = new byte[64];
            for (int i = 0; i < 16; i++)
            {
                putLittleEndian(x[i] + initial[i], keystream, 4 * i);
            }
            final int at = (int)(64 * block);
            System.arraycopy(keystream, 0, out, at, Math.min(64, length - at));
        }
        return out;
    }

    private static int[] initialState(final byte[] key, final byte[] input16)
    {
        final int[] x = new int[16];
        x[0] = 0x61707865;
        x[5] = 0x3320646e;
        x[10] = 0x79622d32;
        x[15] = 0x6b206574;
        for (int i = 0; i < 4; i++)
        {
            x[1 + i] = littleEndian(key, 4 * i);
            x[11 + i] = littleEndian(key, 16 + 4 * i);
            x[6 + i] = littleEndian(input16, 4 * i);
        }
        return x;
    }

    private static void doubleRounds(final int[] x)
    {
        for (int round = 0; round < 20; round += 2)
        {
            quarterRound(x, 0, 4, 8, 12);
            quarterRound(x, 5, 9, 13, 1);
            quarterRound(x, 10, 14, 2, 6);
            quarterRound(x, 15, 3, 7, 11);
            quarterRound(x, 0, 1, 2, 3);
            quarterRound(x, 5, 6, 7, 4);
            quarterRound(x, 10, 11, 8, 9);
            quarterRound(x, 15, 12, 13, 14);
        }
    }

    private static void quarterRound(final int[] x, final int a, final int b, final int c, final int d)
    {
        x[b] ^= Integer.rotateLeft(x[a] + x[d], 7);
        x[c] ^= Integer.rotateLeft(x[b] + x[a], 9);
        x[d] ^= Integer.rotateLeft(x[c] + x[b], 13);
        x[a] ^= Integer.rotateLeft(x[d] + x[c], 18);
    }

    private static int littleEndian(final byte[] in, final int at)
    {
        return (in[at] & 0xFF) | (in[at + 1] & 0xFF) << 8 | (in[at + 2] & 0xFF) << 16 | (in[at + 3] & 0xFF) << 24;
    }

    private static void putLittleEndian(final int value, final byte[] out, final int at)
    {
        out[at] = (byte)value;
        out[at + 1] = (byte)(value >>> 8);
        out[at + 2] = (byte)(value >>> 16);
        out[at + 3] = (byte)(value >>> 24);
    }

    private static byte[] bytes(final Random seeded, final int length)
    {
        final byte[] out = new byte[length];
        seeded.nextBytes(out);
        return out;
    }

    /** Hands out one fixed nonce, so a seal can be compared with a known answer. */
    private static final class FixedNonce extends SecureRandom
    {
        private final byte[] nonce;
        private boolean used;

        FixedNonce(final byte[] nonce)
        {
            this.nonce = nonce.clone();
        }

        @Override
        public void nextBytes(final byte[] bytes)
        {
            assertThat(used).as("nonce requested twice").isFalse();
            assertThat(bytes).hasSize(nonce.length);
            used = true;
            System.arraycopy(nonce, 0, bytes, 0, nonce.length);
        }
    }
}
