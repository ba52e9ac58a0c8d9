package io.jderper.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class VersionTest
{
    @Test
    void shouldReportTheMavenVersionFilteredIntoTheBuild()
    {
        assertThat(Version.get())
            .isNotEqualTo("unknown")
            .doesNotContain("${")
            .matches("\\d+\\.\\d+\\.\\d+.*");
    }
}
