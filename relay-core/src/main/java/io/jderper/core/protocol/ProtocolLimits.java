package io.jderper.core.protocol;

/**
 * Sizes and limits of the DERP wire protocol (spec §2.2, §2.3, §4.3).
 */
public final class ProtocolLimits
{
    /** Protocol version announced in the 101 response, the meta certificate and ServerInfo. */
    public static final int PROTOCOL_VERSION = 2;
    /** Length of a node public key on the wire. */
    public static final int KEY_LENGTH = 32;
    /** Largest relayed packet, excluding keys and the frame header. */
    public static final int MAX_PACKET_SIZE = 64 << 10;
    /** Largest SendPacket or RecvPacket payload: one key plus the packet. */
    public static final int MAX_SEND_PACKET_LENGTH = KEY_LENGTH + MAX_PACKET_SIZE;
    /** Largest ForwardPacket payload: two keys plus the packet. */
    public static final int MAX_FORWARD_PACKET_LENGTH = 2 * KEY_LENGTH + MAX_PACKET_SIZE;
    /** Smallest ClientInfo payload: key plus nonce (the box itself may be empty only in theory). */
    public static final int MIN_CLIENT_INFO_LENGTH = KEY_LENGTH + 24;
    /** Largest ClientInfo payload the server reads. */
    public static final int MAX_CLIENT_INFO_LENGTH = 256 << 10;
    /** Ping payloads outside [8, 1000] close the connection. */
    public static final int MIN_PING_LENGTH = 8;
    /** Largest Ping payload tolerated; the first 8 bytes are echoed. */
    public static final int MAX_PING_LENGTH = 1000;
    /** Length of Ping and Pong data. */
    public static final int PING_DATA_LENGTH = 8;
    /** Length of the ServerKey payload we send: magic plus key. */
    public static final int SERVER_KEY_LENGTH = 8 + KEY_LENGTH;
    /** PeerGone payload: key plus reason byte. */
    public static final int PEER_GONE_LENGTH = KEY_LENGTH + 1;
    /** PeerPresent payload as current servers send it: key, 16B IP, 2B port, 1B flags. */
    public static final int PEER_PRESENT_LENGTH = KEY_LENGTH + 16 + 2 + 1;
    /** Default depth of each per-client send queue (data and disco). */
    public static final int DEFAULT_SEND_QUEUE_DEPTH = 32;
    /** The handshake (ClientInfo read, admission) must finish within this many milliseconds. */
    public static final long HANDSHAKE_TIMEOUT_MS = 10_000;
    /** Base KeepAlive period; a random jitter in [0, 5 s) is added once per connection. */
    public static final long KEEP_ALIVE_MS = 60_000;
    /** Upper bound (exclusive) of the KeepAlive jitter. */
    public static final long KEEP_ALIVE_JITTER_MS = 5_000;
    /** A client gives up on a server silent this long, two KeepAlive periods (spec §8, the 120 s read deadline). */
    public static final long CLIENT_READ_TIMEOUT_MS = 120_000;
    /** Per-write deadline for mesh-privileged connections. */
    public static final long MESH_WRITE_TIMEOUT_MS = 30_000;
    /** Default per-write deadline for ordinary clients ({@code -tcp-write-timeout}). */
    public static final long DEFAULT_WRITE_TIMEOUT_MS = 2_000;

    private ProtocolLimits()
    {
    }
}
