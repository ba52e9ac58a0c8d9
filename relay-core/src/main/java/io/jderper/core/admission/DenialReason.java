package io.jderper.core.admission;

/**
 * Why a client was refused, as counted ({@code jderper_admission_denied{reason}}) and logged.
 */
public enum DenialReason
{
    /** The local tailscaled does not know the key ({@code -verify-clients}). */
    NOT_IN_TAILNET("not_in_tailnet"),
    /** The local tailscaled could not be asked. */
    TAILSCALED_ERROR("tailscaled_error"),
    /** The admission URL answered no, or with a status other than 200 ({@code -verify-client-url}). */
    URL_REFUSED("url_refused"),
    /** The admission URL could not be asked or answered garbage, and fail-open is off. */
    URL_ERROR("url_error"),
    /** The allowlist has entries and the key is not among them. */
    NOT_ALLOWLISTED("not_allowlisted"),
    /** The key is on the list as denied. */
    DENYLISTED("denylisted"),
    /** The upgrade request carried a bearer token that is not the relay's. */
    BAD_TOKEN("bad_token"),
    /** The policy itself failed. */
    ERROR("error");

    private final String label;

    DenialReason(final String label)
    {
        this.label = label;
    }

    /**
     * @return the metric label and log word.
     */
    public String label()
    {
        return label;
    }
}
