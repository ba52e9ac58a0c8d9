package io.jderper.core.admission;

/**
 * The outcome of an admission check.
 *
 * @param admitted   whether the client may use the relay.
 * @param reason     why not; null when admitted.
 * @param detail     words for the log line (never a full key or a secret).
 * @param definitive whether the decision came from an answer that may be cached; false for fail-open admissions
 *                   and errors, so the next client asks again.
 */
public record AdmissionDecision(boolean admitted, DenialReason reason, String detail, boolean definitive)
{
    /** Admitted by an answer. */
    public static final AdmissionDecision ADMITTED = new AdmissionDecision(true, null, "", true);

    /**
     * @param detail why, for the log.
     * @return an admission that must not be cached (e.g. fail-open while the admission URL is down).
     */
    public static AdmissionDecision admittedProvisionally(final String detail)
    {
        return new AdmissionDecision(true, null, detail, false);
    }

    /**
     * @param reason why.
     * @param detail words for the log.
     * @return a refusal that came from an answer and may be cached.
     */
    public static AdmissionDecision denied(final DenialReason reason, final String detail)
    {
        return new AdmissionDecision(false, reason, detail, true);
    }

    /**
     * @param reason why.
     * @param detail words for the log.
     * @return a refusal caused by a failure (not cached).
     */
    public static AdmissionDecision failed(final DenialReason reason, final String detail)
    {
        return new AdmissionDecision(false, reason, detail, false);
    }
}
