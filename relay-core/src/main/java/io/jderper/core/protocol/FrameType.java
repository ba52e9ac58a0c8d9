package io.jderper.core.protocol;

/**
 * DERP frame type bytes (spec §2.4). Each constant carries the payload layout it announces.
 * Kept as {@code byte} constants rather than an enum so the read path can switch on the wire byte directly.
 */
public final class FrameType
{
    /** 8B magic + 32B server public key; server to client, always the first frame. */
    public static final byte SERVER_KEY = 0x01;
    /** 32B client public key + 24B nonce + NaCl box of ClientInfo JSON. */
    public static final byte CLIENT_INFO = 0x02;
    /** 24B nonce + NaCl box of ServerInfo JSON; must be the first frame after ServerKey. */
    public static final byte SERVER_INFO = 0x03;
    /** 32B destination public key + packet bytes. */
    public static final byte SEND_PACKET = 0x04;
    /** 32B source public key + packet bytes (protocol version 2 layout). */
    public static final byte RECV_PACKET = 0x05;
    /** No payload; tells the client the connection is alive. */
    public static final byte KEEP_ALIVE = 0x06;
    /** 1B: 0x01 if this server is the client's home region. */
    public static final byte NOTE_PREFERRED = 0x07;
    /** 32B peer key + 1B reason. */
    public static final byte PEER_GONE = 0x08;
    /** 32B peer key + 16B IP + 2B port + 1B flags; sent to watchers. */
    public static final byte PEER_PRESENT = 0x09;
    /** 32B source key + 32B destination key + packet bytes; mesh peers only. */
    public static final byte FORWARD_PACKET = 0x0A;
    /** No payload; mesh peers subscribe to PeerPresent/PeerGone. */
    public static final byte WATCH_CONNS = 0x10;
    /** 32B key whose connections this server must close; mesh peers only. */
    public static final byte CLOSE_PEER = 0x11;
    /** 8B opaque data, answered with a Pong carrying the same 8 bytes. */
    public static final byte PING = 0x12;
    /** 8B data copied from the Ping. */
    public static final byte PONG = 0x13;
    /** UTF-8 problem text; empty means healthy again. */
    public static final byte HEALTH = 0x14;
    /** 4B reconnect-in ms + 4B try-for ms. */
    public static final byte RESTARTING = 0x15;

    private FrameType()
    {
    }

    /**
     * @param type a frame type byte.
     * @return whether the protocol defines it (there are no types 0x0B–0x0F).
     */
    public static boolean isKnown(final byte type)
    {
        return (type >= SERVER_KEY && type <= FORWARD_PACKET) || (type >= WATCH_CONNS && type <= RESTARTING);
    }

    /**
     * @param type a frame type byte.
     * @return a short name for logs, or {@code "unknown(0xNN)"}.
     */
    public static String name(final byte type)
    {
        return switch (type)
        {
            case SERVER_KEY -> "ServerKey";
            case CLIENT_INFO -> "ClientInfo";
            case SERVER_INFO -> "ServerInfo";
            case SEND_PACKET -> "SendPacket";
            case RECV_PACKET -> "RecvPacket";
            case KEEP_ALIVE -> "KeepAlive";
            case NOTE_PREFERRED -> "NotePreferred";
            case PEER_GONE -> "PeerGone";
            case PEER_PRESENT -> "PeerPresent";
            case FORWARD_PACKET -> "ForwardPacket";
            case WATCH_CONNS -> "WatchConns";
            case CLOSE_PEER -> "ClosePeer";
            case PING -> "Ping";
            case PONG -> "Pong";
            case HEALTH -> "Health";
            case RESTARTING -> "Restarting";
            default -> String.format("unknown(0x%02x)", type & 0xFF);
        };
    }
}
