package io.jderper.core.crypto;

import io.jderper.core.key.NodePrivateKey;
import org.bouncycastle.crypto.engines.Salsa20Engine;
import org.bouncycastle.crypto.engines.XSalsa20Engine;
import org.bouncycastle.crypto.macs.Poly1305;
import org.bouncycastle.crypto.params.KeyParameter;
import org.bouncycastle.crypto.params.ParametersWithIV;
import org.bouncycastle.util.Arrays;
import org.bouncycastle.util.Pack;

import java.security.SecureRandom;
import java.util.Optional;

/**
 * NaCl {@code crypto_box} (Curve25519, XSalsa20, Poly1305) in the wire form Tailscale uses:
 * {@code nonce(24) || tag(16) || ciphertext} (spec §3.2). Runs once per connection in each direction,
 * so plain BouncyCastle objects are fine here; a handshake that opens and seals with the same peer computes the
 * {@link #sharedKey} once.
 */
public final class NaclBox
{
    /** Nonce bytes at the start of a sealed box. */
    public static final int NONCE_LENGTH = 24;
    /** Poly1305 tag bytes. */
    public static final int TAG_LENGTH = 16;
    /** Bytes a sealed box adds to its plaintext. */
    public static final int OVERHEAD = NONCE_LENGTH + TAG_LENGTH;

    private static final int[] SIGMA = {0x61707865, 0x3320646e, 0x79622d32, 0x6b206574};

    private NaclBox()
    {
    }

    /**
     * Seals {@code plaintext} from {@code sender} to the holder of {@code recipientPublic}.
     *
     * @param sender          private key of the sealer.
     * @param recipientPublic 32-byte public key of the recipient.
     * @param plaintext       bytes to seal.
     * @param random          nonce source.
     * @return nonce || tag || ciphertext.
     */
    public static byte[] seal(
        final NodePrivateKey sender, final byte[] recipientPublic, final byte[] plaintext, final SecureRandom random)
    {
        final byte[] boxKey = sharedKey(sender, recipientPublic, 0);
        try
        {
            return seal(boxKey, plaintext, random);
        }
        finally
        {
            Arrays.fill(boxKey, (byte)0);
        }
    }

    /**
     * Seals with a key from {@link #sharedKey}: the same box as {@link #seal(NodePrivateKey, byte[], byte[],
     * SecureRandom)} without a second X25519 multiplication when one handshake opens and seals with the same peer.
     *
     * @param boxKey    32-byte key from {@link #sharedKey}.
     * @param plaintext bytes to seal.
     * @param random    nonce source.
     * @return nonce || tag || ciphertext.
     */
    public static byte[] seal(final byte[] boxKey, final byte[] plaintext, final SecureRandom random)
    {
        final byte[] nonce = new byte[NONCE_LENGTH];
        random.nextBytes(nonce);
        final byte[] out = new byte[OVERHEAD + plaintext.length];
        System.arraycopy(nonce, 0, out, 0, NONCE_LENGTH);
        final byte[] polyKey = new byte[32];
        final XSalsa20Engine cipher = cipher(boxKey, nonce);
        cipher.processBytes(polyKey, 0, 32, polyKey, 0);
        cipher.processBytes(plaintext, 0, plaintext.length, out, OVERHEAD);
        mac(polyKey, out, OVERHEAD, plaintext.length, out, NONCE_LENGTH);
        Arrays.fill(polyKey, (byte)0);
        return out;
    }

    /**
     * Opens a box sealed to {@code recipient} by the holder of the public key at {@code senderPublic[offset]}.
     *
     * @param recipient          private key of the recipient.
     * @param senderPublic       array holding the sender's 32-byte public key.
     * @param senderPublicOffset where that key starts.
     * @param box                array holding nonce || tag || ciphertext.
     * @param boxOffset          where the box starts.
     * @param boxLength          bytes in the box.
     * @return the plaintext, or empty if the box is too short or does not authenticate.
     */
    public static Optional<byte[]> open(
        final NodePrivateKey recipient,
        final byte[] senderPublic,
        final int senderPublicOffset,
        final byte[] box,
        final int boxOffset,
        final int boxLength)
    {
        if (boxLength < OVERHEAD)
        {
            return Optional.empty();
        }
        final byte[] boxKey = sharedKey(recipient, senderPublic, senderPublicOffset);
        try
        {
            return open(boxKey, box, boxOffset, boxLength);
        }
        finally
        {
            Arrays.fill(boxKey, (byte)0);
        }
    }

    /**
     * Opens with a key from {@link #sharedKey}.
     *
     * @param boxKey    32-byte key from {@link #sharedKey}.
     * @param box       array holding nonce || tag || ciphertext.
     * @param boxOffset where the box starts.
     * @param boxLength bytes in the box.
     * @return the plaintext, or empty if the box is too short or does not authenticate.
     */
    public static Optional<byte[]> open(final byte[] boxKey, final byte[] box, final int boxOffset, final int boxLength)
    {
        if (boxLength < OVERHEAD)
        {
            return Optional.empty();
        }
        final byte[] nonce = Arrays.copyOfRange(box, boxOffset, boxOffset + NONCE_LENGTH);
        final XSalsa20Engine cipher = cipher(boxKey, nonce);
        final byte[] polyKey = new byte[32];
        cipher.processBytes(polyKey, 0, 32, polyKey, 0);
        final int cipherLength = boxLength - OVERHEAD;
        final byte[] expectedTag = new byte[TAG_LENGTH];
        mac(polyKey, box, boxOffset + OVERHEAD, cipherLength, expectedTag, 0);
        final boolean authentic = Arrays.constantTimeAreEqual(
            TAG_LENGTH, expectedTag, 0, box, boxOffset + NONCE_LENGTH);
        Arrays.fill(polyKey, (byte)0);
        if (!authentic)
        {
            return Optional.empty();
        }
        final byte[] plaintext = new byte[cipherLength];
        cipher.processBytes(box, boxOffset + OVERHEAD, cipherLength, plaintext, 0);
        return Optional.of(plaintext);
    }

    /**
     * {@code crypto_box_beforenm}: the symmetric key both directions between two keys use, HSalsa20 of their X25519
     * shared secret. The X25519 multiplication is most of a box's cost; wipe the key when done with it.
     *
     * @param self       this side's private key.
     * @param peerPublic array holding the peer's 32-byte public key.
     * @param peerOffset where that key starts.
     * @return a new 32-byte key.
     */
    public static byte[] sharedKey(final NodePrivateKey self, final byte[] peerPublic, final int peerOffset)
    {
        final byte[] shared = new byte[32];
        self.sharedSecret(peerPublic, peerOffset, shared);
        final byte[] key = hsalsa20(shared);
        Arrays.fill(shared, (byte)0);
        return key;
    }

    private static XSalsa20Engine cipher(final byte[] boxKey, final byte[] nonce)
    {
        final XSalsa20Engine engine = new XSalsa20Engine();
        engine.init(true, new ParametersWithIV(new KeyParameter(boxKey), nonce));
        return engine;
    }

    private static void mac(
        final byte[] polyKey, final byte[] data, final int offset, final int length, final byte[] out, final int outOffset)
    {
        final Poly1305 poly = new Poly1305();
        poly.init(new KeyParameter(polyKey));
        poly.update(data, offset, length);
        poly.doFinal(out, outOffset);
    }

    private static byte[] hsalsa20(final byte[] key)
    {
        final int[] state = new int[16];
        state[0] = SIGMA[0];
        state[5] = SIGMA[1];
        state[10] = SIGMA[2];
        state[15] = SIGMA[3];
        for (int i = 0; i < 4; i++)
        {
            state[1 + i] = Pack.littleEndianToInt(key, i * 4);
            state[11 + i] = Pack.littleEndianToInt(key, 16 + i * 4);
        }
        // Input words 6..9 stay zero: crypto_box_beforenm feeds HSalsa20 a 16-byte zero block.
        final int[] x = new int[16];
        Salsa20Engine.salsaCore(20, state, x);
        // salsaCore adds the input back in; HSalsa20 wants the raw permutation output, so subtract it.
        final int[] words = {0, 5, 10, 15, 6, 7, 8, 9};
        final byte[] out = new byte[32];
        for (int i = 0; i < words.length; i++)
        {
            final int w = words[i];
            Pack.intToLittleEndian(x[w] - state[w], out, i * 4);
        }
        Arrays.fill(x, 0);
        Arrays.fill(state, 0);
        return out;
    }
}
