package io.jderper.core.protocol;

/**
 * Categories of bad input from a peer; each closes only the offending connection and is counted.
 */
public enum Violation
{
    /** The first frame after the upgrade was not ClientInfo. */
    FIRST_FRAME_NOT_CLIENT_INFO("first_frame_not_client_info"),
    /** ClientInfo shorter than key + nonce or longer than 256 KiB. */
    CLIENT_INFO_LENGTH("client_info_length"),
    /** ClientInfo named the all-zero key. */
    CLIENT_INFO_ZERO_KEY("client_info_zero_key"),
    /** ClientInfo box did not open with our key. */
    CLIENT_INFO_BOX("client_info_box"),
    /** ClientInfo JSON was malformed (including a bad meshKey). */
    CLIENT_INFO_JSON("client_info_json"),
    /** ClientInfo did not arrive (or admission did not finish) within 10 s. */
    HANDSHAKE_TIMEOUT("handshake_timeout"),
    /** A frame declared a length over what its type (or any type) may carry. */
    FRAME_TOO_LARGE("frame_too_large"),
    /** A frame's length does not fit its type (NotePreferred != 1, Ping < 8, ...). */
    FRAME_LENGTH("frame_length"),
    /** A mesh-only frame from a connection without the mesh key. */
    NOT_PRIVILEGED("not_privileged"),
    /** The connection ended in the middle of a frame. */
    TRUNCATED_FRAME("truncated_frame"),
    /** Bytes that are not TLS on the TLS port, not HTTP before the upgrade, or not WebSocket frames after one. */
    BAD_TRANSPORT("bad_transport"),
    /** Admission refused the client. */
    NOT_ADMITTED("not_admitted"),
    /** The TLS handshake did not finish within the handshake timeout of accept. */
    TLS_HANDSHAKE_TIMEOUT("tls_handshake_timeout"),
    /** An HTTP request head and body did not arrive within the HTTP read timeout (slowloris). */
    HTTP_REQUEST_TIMEOUT("http_request_timeout"),
    /** An HTTP request line or header block longer than the relay buffers. */
    HTTP_HEADER_TOO_LARGE("http_header_too_large"),
    /** A DERP frame was begun and then no byte of it arrived for the frame read timeout. */
    FRAME_STALLED("frame_stalled");

    private final String label;

    Violation(final String label)
    {
        this.label = label;
    }

    /**
     * @return the metric label.
     */
    public String label()
    {
        return label;
    }
}
