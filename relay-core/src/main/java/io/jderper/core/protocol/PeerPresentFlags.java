package io.jderper.core.protocol;

/**
 * Flag bits of a PeerPresent frame (spec §2.6).
 */
public final class PeerPresentFlags
{
    /** Set only when no other bit applies. */
    public static final byte REGULAR = 0x01;
    /** The connection holds the mesh key. */
    public static final byte MESH_PEER = 0x02;
    /** ClientInfo said IsProber. */
    public static final byte PROBER = 0x04;
    /** The client sent an Ideal-Node header. */
    public static final byte NOT_IDEAL = 0x08;

    private PeerPresentFlags()
    {
    }

    /**
     * @param mesh     mesh-privileged.
     * @param prober   a prober.
     * @param notIdeal connected to a node other than its region's first.
     * @return the flag byte; never zero.
     */
    public static byte of(final boolean mesh, final boolean prober, final boolean notIdeal)
    {
        int flags = 0;
        if (mesh)
        {
            flags |= MESH_PEER;
        }
        if (prober)
        {
            flags |= PROBER;
        }
        if (notIdeal)
        {
            flags |= NOT_IDEAL;
        }
        return (byte)(0 == flags ? REGULAR : flags);
    }
}
