package io.jderper.core.protocol;

/**
 * A peer broke the protocol: the connection that sent it is closed, nothing else is affected.
 * Carries a {@link Violation} so the transport can count and log it by category.
 */
public final class ProtocolException extends RuntimeException
{
    private final Violation violation;

    /**
     * @param violation category, for counters.
     * @param message   what happened, with {@code name=value} details.
     */
    public ProtocolException(final Violation violation, final String message)
    {
        super(message, null, false, false);
        this.violation = violation;
    }

    /**
     * @return the category of the violation.
     */
    public Violation violation()
    {
        return violation;
    }
}
