package io.jderper.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;

import javax.net.ssl.SSLContext;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.conscrypt.Conscrypt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class TlsProviderTest
{
    private final Logger logger = (Logger)LoggerFactory.getLogger(TlsProvider.class);
    private final ListAppender<ILoggingEvent> logged = new ListAppender<>();

    @BeforeEach
    void captureLog()
    {
        logged.start();
        logger.addAppender(logged);
    }

    @AfterEach
    void releaseLog()
    {
        logger.detachAppender(logged);
    }

    @Test
    void shouldPickConscryptWhenItLoads()
    {
        assumeTrue(Conscrypt.isAvailable(), "Conscrypt has no native library for this platform");

        final TlsProvider provider = TlsProvider.detect();

        assertThat(provider.isConscrypt()).isTrue();
        assertThat(provider.name()).isEqualTo("Conscrypt");
        assertThat(Conscrypt.isConscrypt(provider.provider())).isTrue();
        assertThat(infoLines()).anyMatch(line -> line.startsWith("TLS provider: Conscrypt"));
    }

    @Test
    void shouldFallBackToTheJdkWhenTheNativeLibraryDoesNotLoad() throws Exception
    {
        final TlsProvider provider = TlsProvider.select(() ->
        {
            throw new UnsatisfiedLinkError("no conscrypt_openjdk_jni in java.library.path");
        });

        assertThat(provider.isConscrypt()).isFalse();
        assertThat(provider.name()).isEqualTo(SSLContext.getInstance("TLS").getProvider().getName());
        assertThat(infoLines()).anyMatch(line -> line.contains("Conscrypt unavailable") &&
            line.contains("no conscrypt_openjdk_jni"));
    }

    @Test
    void shouldFallBackToTheJdkWhenConscryptClassesAreMissing()
    {
        final TlsProvider provider = TlsProvider.select(() ->
        {
            throw new NoClassDefFoundError("org/conscrypt/Conscrypt");
        });

        assertThat(provider.isConscrypt()).isFalse();
        assertThat(infoLines()).anyMatch(line -> line.contains("org/conscrypt/Conscrypt"));
    }

    @Test
    void shouldFallBackToTheJdkWhenConscryptThrows()
    {
        final TlsProvider provider = TlsProvider.select(() ->
        {
            throw new IllegalStateException("Conscrypt reports that it is not available");
        });

        assertThat(provider.isConscrypt()).isFalse();
    }

    @Test
    void shouldOfferTheJdkProviderOnRequest() throws Exception
    {
        final TlsProvider provider = TlsProvider.jdk();

        assertThat(provider.isConscrypt()).isFalse();
        assertThat(provider.provider()).isSameAs(SSLContext.getInstance("TLS").getProvider());
    }

    private List<String> infoLines()
    {
        return logged.list.stream()
            .filter(event -> event.getLevel() == Level.INFO)
            .map(ILoggingEvent::getFormattedMessage)
            .toList();
    }
}
