package io.jderper.core.handshake;

import io.jderper.core.crypto.NaclBox;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import io.jderper.core.protocol.ControlFrames;
import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.FrameType;
import io.jderper.core.protocol.ProtocolException;
import io.jderper.core.protocol.ProtocolLimits;
import io.jderper.core.protocol.Violation;
import org.agrona.DirectBuffer;
import org.agrona.concurrent.UnsafeBuffer;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;
import java.util.Optional;

/**
 * The server's half of the DERP login (spec §4.1): the ServerKey frame, opening ClientInfo, sealing ServerInfo.
 * One instance serves every connection; it holds only the server's key.
 */
public final class ServerHandshake
{
    /** The ServerInfo JSON derper sends; we advertise no token bucket (spec §2.7). */
    private static final byte[] SERVER_INFO_JSON =
        ("{\"version\":" + ProtocolLimits.PROTOCOL_VERSION + "}").getBytes(StandardCharsets.US_ASCII);

    private final NodePrivateKey serverKey;
    private final Optional<byte[]> meshKey;
    private final SecureRandom random;
    private final byte[] serverKeyFrame;

    /**
     * @param serverKey the server's private key.
     * @param meshKey   the mesh pre-shared key, if this server has one.
     * @param random    nonce source.
     */
    public ServerHandshake(final NodePrivateKey serverKey, final Optional<byte[]> meshKey, final SecureRandom random)
    {
        this.serverKey = serverKey;
        this.meshKey = meshKey.map(byte[]::clone);
        this.random = random;
        this.serverKeyFrame = new byte[ControlFrames.SERVER_KEY_FRAME_LENGTH];
        ControlFrames.serverKey(new UnsafeBuffer(serverKeyFrame), 0, serverKey.publicKey().toBytes());
    }

    /**
     * @return the server's public key.
     */
    public NodePublicKey serverPublicKey()
    {
        return serverKey.publicKey();
    }

    /**
     * @return a copy of the whole ServerKey frame (header included), sent first on every connection.
     */
    public byte[] serverKeyFrame()
    {
        return serverKeyFrame.clone();
    }

    /**
     * Checks and opens a ClientInfo frame payload.
     *
     * @param type          the first frame's type.
     * @param payload       buffer holding the payload.
     * @param offset        where the payload starts.
     * @param length        payload bytes.
     * @return the authenticated client.
     * @throws ProtocolException if anything is wrong; the caller closes the connection.
     */
    public AuthenticatedClient openClientInfo(
        final byte type, final DirectBuffer payload, final int offset, final int length)
    {
        if (FrameType.CLIENT_INFO != type)
        {
            throw new ProtocolException(Violation.FIRST_FRAME_NOT_CLIENT_INFO,
                "first frame type=" + FrameType.name(type) + ", want ClientInfo");
        }
        if (length < ProtocolLimits.MIN_CLIENT_INFO_LENGTH || length > ProtocolLimits.MAX_CLIENT_INFO_LENGTH)
        {
            throw new ProtocolException(Violation.CLIENT_INFO_LENGTH, "ClientInfo length=" + length);
        }
        final byte[] frame = new byte[length];
        payload.getBytes(offset, frame);
        final NodePublicKey clientKey = NodePublicKey.fromBuffer(payload, offset);
        if (clientKey.isZero())
        {
            throw new ProtocolException(Violation.CLIENT_INFO_ZERO_KEY, "ClientInfo from the all-zero key");
        }
        // One X25519 multiplication for both boxes of the handshake: the ClientInfo opened here and the ServerInfo
        // sealed to the same key (it waits in AuthenticatedClient for admission; it is ciphertext, not a secret).
        final byte[] boxKey = NaclBox.sharedKey(serverKey, frame, 0);
        try
        {
            final byte[] json = NaclBox.open(boxKey, frame, ProtocolLimits.KEY_LENGTH, length - ProtocolLimits.KEY_LENGTH)
                .orElseThrow(() -> new ProtocolException(Violation.CLIENT_INFO_BOX,
                    "ClientInfo box from " + clientKey.toShortString() + " does not open"));
            final ClientInfo info = ClientInfoCodec.decode(json);
            return new AuthenticatedClient(clientKey, info, isMeshPrivileged(info),
                serverInfoFrame(NaclBox.seal(boxKey, SERVER_INFO_JSON, random)));
        }
        finally
        {
            Arrays.fill(boxKey, (byte)0);
        }
    }

    /**
     * @param client the client to send ServerInfo to.
     * @return the whole ServerInfo frame, sealed to the client.
     */
    public byte[] serverInfoFrame(final NodePublicKey client)
    {
        return serverInfoFrame(NaclBox.seal(serverKey, client.toBytes(), SERVER_INFO_JSON, random));
    }

    private static byte[] serverInfoFrame(final byte[] box)
    {
        final byte[] frame = new byte[FrameHeader.LENGTH + box.length];
        final UnsafeBuffer buffer = new UnsafeBuffer(frame);
        FrameHeader.write(buffer, 0, FrameType.SERVER_INFO, box.length);
        buffer.putBytes(FrameHeader.LENGTH, box);
        return frame;
    }

    private boolean isMeshPrivileged(final ClientInfo info)
    {
        if (meshKey.isEmpty() || info.meshKey().isEmpty())
        {
            return false;
        }
        final byte[] offered = info.meshKey().get();
        int zero = 0;
        for (final byte b : offered)
        {
            zero |= b;
        }
        // Constant time: the mesh key is a shared secret.
        return 0 != zero && MessageDigest.isEqual(meshKey.get(), offered);
    }

    /**
     * A client whose ClientInfo opened under its claimed key.
     *
     * @param key            the client's node public key.
     * @param info           what it said about itself.
     * @param meshPrivileged whether it presented this server's mesh key.
     * @param serverInfoFrame the whole ServerInfo frame sealed to this client, to send once it is admitted.
     */
    public record AuthenticatedClient(NodePublicKey key, ClientInfo info, boolean meshPrivileged,
        byte[] serverInfoFrame)
    {
    }
}
