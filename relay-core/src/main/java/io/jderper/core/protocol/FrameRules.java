package io.jderper.core.protocol;

/**
 * What the server does with a frame once its header is read, before any payload is buffered (spec §4.2, §9):
 * lengths that can never be valid close the connection at once, so a peer cannot make us buffer them.
 */
public final class FrameRules
{
    /** Buffer the whole payload, then dispatch it. */
    public static final int BUFFER = 0;
    /** Discard the payload as it streams past: an unknown or ignored type. */
    public static final int SKIP = 1;

    private FrameRules()
    {
    }

    /**
     * Checks the first frame of a connection, which must be ClientInfo.
     *
     * @param type          frame type.
     * @param payloadLength declared length.
     * @throws ProtocolException if the frame cannot be a valid ClientInfo.
     */
    public static void checkFirstFrame(final byte type, final long payloadLength)
    {
        if (FrameType.CLIENT_INFO != type)
        {
            throw new ProtocolException(Violation.FIRST_FRAME_NOT_CLIENT_INFO,
                "first frame type=" + FrameType.name(type) + ", want ClientInfo");
        }
        if (payloadLength < ProtocolLimits.MIN_CLIENT_INFO_LENGTH ||
            payloadLength > ProtocolLimits.MAX_CLIENT_INFO_LENGTH)
        {
            throw new ProtocolException(Violation.CLIENT_INFO_LENGTH, "ClientInfo length=" + payloadLength);
        }
    }

    /**
     * Checks a frame after the handshake.
     *
     * @param type           frame type.
     * @param payloadLength  declared length.
     * @param meshPrivileged whether the connection holds the mesh key.
     * @return {@link #BUFFER} or {@link #SKIP}.
     * @throws ProtocolException if the frame must close the connection.
     */
    public static int check(final byte type, final long payloadLength, final boolean meshPrivileged)
    {
        switch (type)
        {
            case FrameType.SEND_PACKET:
                if (payloadLength < ProtocolLimits.KEY_LENGTH)
                {
                    throw new ProtocolException(Violation.FRAME_LENGTH, "SendPacket length=" + payloadLength);
                }
                if (payloadLength > ProtocolLimits.MAX_SEND_PACKET_LENGTH)
                {
                    throw new ProtocolException(Violation.FRAME_TOO_LARGE, "SendPacket length=" + payloadLength);
                }
                return BUFFER;
            case FrameType.FORWARD_PACKET:
                requireMesh(type, meshPrivileged);
                if (payloadLength < 2L * ProtocolLimits.KEY_LENGTH)
                {
                    throw new ProtocolException(Violation.FRAME_LENGTH, "ForwardPacket length=" + payloadLength);
                }
                if (payloadLength > ProtocolLimits.MAX_FORWARD_PACKET_LENGTH)
                {
                    throw new ProtocolException(Violation.FRAME_TOO_LARGE, "ForwardPacket length=" + payloadLength);
                }
                return BUFFER;
            case FrameType.NOTE_PREFERRED:
                exactLength(type, payloadLength, 1);
                return BUFFER;
            case FrameType.WATCH_CONNS:
                exactLength(type, payloadLength, 0);
                requireMesh(type, meshPrivileged);
                return BUFFER;
            case FrameType.CLOSE_PEER:
                exactLength(type, payloadLength, ProtocolLimits.KEY_LENGTH);
                requireMesh(type, meshPrivileged);
                return BUFFER;
            case FrameType.PING:
                if (payloadLength < ProtocolLimits.MIN_PING_LENGTH || payloadLength > ProtocolLimits.MAX_PING_LENGTH)
                {
                    throw new ProtocolException(Violation.FRAME_LENGTH, "Ping length=" + payloadLength);
                }
                return BUFFER;
            default:
                // Unknown types, and known ones a server ignores (Pong, KeepAlive, ...), are skipped by length.
                return SKIP;
        }
    }

    private static void exactLength(final byte type, final long payloadLength, final int want)
    {
        if (payloadLength != want)
        {
            throw new ProtocolException(Violation.FRAME_LENGTH,
                FrameType.name(type) + " length=" + payloadLength + ", want " + want);
        }
    }

    private static void requireMesh(final byte type, final boolean meshPrivileged)
    {
        if (!meshPrivileged)
        {
            throw new ProtocolException(Violation.NOT_PRIVILEGED,
                FrameType.name(type) + " from a client without the mesh key");
        }
    }
}
