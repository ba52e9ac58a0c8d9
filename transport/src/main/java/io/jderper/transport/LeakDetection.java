package io.jderper.transport;

import io.netty.util.ResourceLeakDetector;

/**
 * Netty's buffer leak detection for long-running processes (the relay, the forwarder baseline, the load generator).
 *
 * <p>Netty's default level samples one buffer in 128 and records a stack trace for it. Every packet the relay forwards
 * is a pooled buffer, so that sampling costs CPU and heap on the packet path (measured at about 14 bytes per packet in
 * {@code EndToEndForwardBenchmark}), where the relay promises none. The test suites run with
 * {@code -Dio.netty.leakDetection.level=paranoid}, which tracks every buffer, so leaks are found there; production
 * processes turn detection off unless the operator asks for a level with that property.
 */
public final class LeakDetection
{
    /** Netty's system property; when set, its value is used as it is. */
    public static final String LEVEL_PROPERTY = "io.netty.leakDetection.level";

    private LeakDetection()
    {
    }

    /**
     * Turns leak detection off unless {@value #LEVEL_PROPERTY} was given. Call before the first buffer is made.
     *
     * @return the level now in force, for the start-up log.
     */
    public static ResourceLeakDetector.Level disableUnlessConfigured()
    {
        if (null == System.getProperty(LEVEL_PROPERTY))
        {
            ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.DISABLED);
        }
        return ResourceLeakDetector.getLevel();
    }
}
