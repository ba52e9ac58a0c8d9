package io.jderper.transport.io;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class OpenFileLimitTest
{
    @Test
    void readsThisProcesssLimitOnLinux()
    {
        // The build runs on Linux (io_uring), where /proc/self/limits always has the line.
        assertThat(OpenFileLimit.soft()).isPositive();
    }

    @Test
    void leavesTheBaseAndDividesTheRestByTheDescriptorsPerConnection()
    {
        assertThat(OpenFileLimit.connectionsWithin(20_000, OpenFileLimit.PER_CONSCRYPT_CONNECTION)).isEqualTo(6_600);
        assertThat(OpenFileLimit.connectionsWithin(20_000, OpenFileLimit.PER_CONNECTION)).isEqualTo(19_800);
        assertThat(OpenFileLimit.connectionsWithin(100, OpenFileLimit.PER_CONNECTION)).isZero();
    }

    @Test
    void passesUnknownAndUnlimitedThrough()
    {
        assertThat(OpenFileLimit.connectionsWithin(-1, OpenFileLimit.PER_CONNECTION)).isEqualTo(-1);
        assertThat(OpenFileLimit.connectionsWithin(Long.MAX_VALUE, 3)).isEqualTo(Long.MAX_VALUE);
    }
}
