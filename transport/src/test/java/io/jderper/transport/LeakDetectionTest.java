package io.jderper.transport;

import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Changes Netty's process-wide level and a system property, and puts both back after each test. */
class LeakDetectionTest
{
    private String property;
    private ResourceLeakDetector.Level level;

    @BeforeEach
    void remember()
    {
        property = System.getProperty(LeakDetection.LEVEL_PROPERTY);
        level = ResourceLeakDetector.getLevel();
    }

    @AfterEach
    void restore()
    {
        if (null == property)
        {
            System.clearProperty(LeakDetection.LEVEL_PROPERTY);
        }
        else
        {
            System.setProperty(LeakDetection.LEVEL_PROPERTY, property);
        }
        ResourceLeakDetector.setLevel(level);
    }

    @Test
    void turnsDetectionOffWhenNobodyAskedForALevel()
    {
        System.clearProperty(LeakDetection.LEVEL_PROPERTY);
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.SIMPLE);

        assertThat(LeakDetection.disableUnlessConfigured()).isEqualTo(ResourceLeakDetector.Level.DISABLED);
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.DISABLED);
    }

    @Test
    void keepsTheLevelTheOperatorAskedFor()
    {
        System.setProperty(LeakDetection.LEVEL_PROPERTY, "advanced");
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.ADVANCED);

        assertThat(LeakDetection.disableUnlessConfigured()).isEqualTo(ResourceLeakDetector.Level.ADVANCED);
        assertThat(ResourceLeakDetector.getLevel()).isEqualTo(ResourceLeakDetector.Level.ADVANCED);
    }
}
