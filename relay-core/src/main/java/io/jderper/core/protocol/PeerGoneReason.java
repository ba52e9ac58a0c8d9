package io.jderper.core.protocol;

/**
 * The reason byte of a PeerGone frame (spec §2.5).
 */
public final class PeerGoneReason
{
    /** The peer was connected and has left the region. */
    public static final byte DISCONNECTED = 0x00;
    /** The server has no record of the destination (sent only in reply to a disco packet). */
    public static final byte NOT_HERE = 0x01;

    private PeerGoneReason()
    {
    }
}
