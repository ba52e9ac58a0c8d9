package io.jderper.tls;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;

import javax.net.ssl.SSLContext;

import io.netty.buffer.ByteBufAllocator;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.util.ReferenceCountUtil;
import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.conscrypt.Conscrypt;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
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
    void shouldPickOpenSslByDefault()
    {
        final TlsProvider provider = TlsProvider.detect();

        assertThat(provider.isOpenSsl()).as("netty-tcnative loads on this machine").isTrue();
        assertThat(infoLines()).anyMatch(line -> line.startsWith("TLS provider: OpenSSL"));
    }

    @Test
    void shouldFallBackToTheNextProviderThatLoads()
    {
        final TlsProvider provider = TlsProvider.firstThatLoads(List.of(() ->
        {
            throw new IllegalStateException("netty-tcnative does not load: no native library");
        }, TlsProvider::conscrypt));

        assertThat(provider.isConscrypt()).isTrue();
        assertThat(provider.name()).isEqualTo("Conscrypt");
        assertThat(Conscrypt.isConscrypt(provider.provider())).isTrue();
    }

    @Test
    void shouldFallBackToTheJdkWhenNoNativeLibraryLoads() throws Exception
    {
        final TlsProvider provider = TlsProvider.firstThatLoads(List.of(() ->
        {
            throw new IllegalStateException("netty-tcnative does not load: no native library");
        }, () ->
        {
            throw new UnsatisfiedLinkError("no conscrypt_openjdk_jni in java.library.path");
        }));

        assertThat(provider.isConscrypt()).isFalse();
        assertThat(provider.isOpenSsl()).isFalse();
        assertThat(provider.name()).isEqualTo(SSLContext.getInstance("TLS").getProvider().getName());
        assertThat(infoLines()).anyMatch(line -> line.contains("netty-tcnative does not load") &&
            line.contains("no conscrypt_openjdk_jni"));
    }

    @Test
    void shouldFallBackToTheJdkWhenClassesAreMissing()
    {
        final TlsProvider provider = TlsProvider.firstThatLoads(List.of(() ->
        {
            throw new NoClassDefFoundError("org/conscrypt/Conscrypt");
        }));

        assertThat(provider.isConscrypt()).isFalse();
        assertThat(infoLines()).anyMatch(line -> line.contains("org/conscrypt/Conscrypt"));
    }

    @Test
    void shouldOfferTheJdkProviderOnRequest() throws Exception
    {
        final TlsProvider provider = TlsProvider.jdk();

        assertThat(provider.isConscrypt()).isFalse();
        assertThat(provider.provider()).isSameAs(SSLContext.getInstance("TLS").getProvider());
    }

    @Test
    void shouldRunOpenSslOnNettysNativeEngine() throws Exception
    {
        final TlsProvider provider = TlsProvider.openSsl();

        assertThat(provider.isOpenSsl()).isTrue();
        assertThat(provider.isConscrypt()).isFalse();
        assertThat(provider.name()).isEqualTo("OpenSSL");
        assertThat(infoLines()).anyMatch(line -> line.startsWith("TLS provider: OpenSSL, BoringSSL"));
        assertThatThrownBy(provider::provider).isInstanceOf(IllegalStateException.class)
            .hasMessageContaining("not a JSSE provider");
        final SslContext context = provider.configure(SslContextBuilder.forClient()).build();
        try
        {
            assertThat(context.newEngine(ByteBufAllocator.DEFAULT)).isInstanceOf(ReferenceCountedOpenSslEngine.class)
                .satisfies(engine -> ((ReferenceCountedOpenSslEngine)engine).release());
        }
        finally
        {
            ReferenceCountUtil.release(context);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"conscrypt", "openssl", "jdk"})
    void shouldFindEachProviderByItsFlagName(final String name)
    {
        final TlsProvider provider = TlsProvider.named(name);

        assertThat(provider.name()).isEqualTo(switch (name)
        {
            case "conscrypt" -> "Conscrypt";
            case "openssl" -> "OpenSSL";
            default -> TlsProvider.jdk().name();
        });
    }

    @Test
    void shouldRefuseAnUnknownProviderName()
    {
        assertThatThrownBy(() -> TlsProvider.named("gnutls")).isInstanceOf(IllegalArgumentException.class)
            .hasMessage("unknown TLS provider \"gnutls\", want one of [auto, conscrypt, openssl, jdk]");
    }

    private List<String> infoLines()
    {
        return logged.list.stream()
            .filter(event -> event.getLevel() == Level.INFO)
            .map(ILoggingEvent::getFormattedMessage)
            .toList();
    }
}
