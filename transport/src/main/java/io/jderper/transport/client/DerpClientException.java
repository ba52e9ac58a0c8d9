package io.jderper.transport.client;

import java.io.IOException;

/**
 * Why a DERP client failed to connect or lost its connection. The message names the server and the step that went
 * wrong (TCP connect, TLS, HTTP upgrade, a handshake frame, a protocol rule, a timeout).
 */
public final class DerpClientException extends IOException
{
    /**
     * @param message what went wrong, with the server's URL.
     */
    public DerpClientException(final String message)
    {
        super(message);
    }

    /**
     * @param message what went wrong, with the server's URL.
     * @param cause   the underlying failure.
     */
    public DerpClientException(final String message, final Throwable cause)
    {
        super(message, cause);
    }
}
