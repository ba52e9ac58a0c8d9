package io.jderper.transport.http;

import static org.assertj.core.api.Assertions.assertThat;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jderper.transport.EmbeddedRelay;
import io.jderper.transport.LogCapture;
import io.jderper.transport.derp.DerpUpgrade;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Any bytes a client sends before the upgrade, as reads cut where the fuzzer chooses, into the HTTP pipeline the
 * relay runs after TLS (the main listener with {@code /derp} and a relay core behind it, or the plain-HTTP port):
 * nothing escapes the pipeline and no handler closes on an exception, every buffer is released, what the server
 * writes is a sequence of well-formed HTTP responses (a DERP or WebSocket upgrade ends it), none of them larger than
 * its fixed text plus what the client sent, and the connection ends closed, upgraded, or waiting for more of a
 * request, in which case the read timeout closes it.
 *
 * <p>The first input byte chooses the reads (its low 7 bits: bytes per read, 0 for one read) and the listener (its
 * top bit: the plain-HTTP port); the rest is what the client sends.
 */
class HttpRequestHeadFuzzTest
{
    /** Largest response text that is not the client's own bytes reflected: the home page with its headers. */
    private static final int MAX_FIXED_RESPONSE = 4096;
    private static final String[] HTTP_STATE = {DerpUpgrade.HTTP_DECODER, "http-encoder", "http-aggregator", "http"};
    private static final Pattern STATUS_LINE = Pattern.compile("HTTP/1\\.1 ([1-5][0-9][0-9]) [ -~]*");
    private static final Pattern HEADER_LINE = Pattern.compile("[!#$%&'*+.^_`|~0-9A-Za-z-]+: ?([^\\r\\n]*)");

    private static final LogCapture LOGS = new LogCapture();

    @BeforeAll
    static void captureLogs()
    {
        LOGS.start();
    }

    @AfterAll
    static void releaseLogs()
    {
        LOGS.stop();
    }

    @FuzzTest(maxDuration = "30s")
    void requestsAreAnsweredRefusedOrUpgraded(final byte[] input)
    {
        if (0 == input.length)
        {
            return;
        }
        final int chunk = input[0] & 0x7F;
        final EmbeddedRelay.Listener listener = 0 == (input[0] & 0x80) ?
            EmbeddedRelay.Listener.MAIN : EmbeddedRelay.Listener.PLAIN_HTTP_PORT;
        final EmbeddedRelay relay = new EmbeddedRelay(listener);
        try
        {
            relay.readInChunks(input, 1, chunk, readUpTo -> { });
            final boolean open = relay.channel().isOpen();
            final boolean awaitingRequest = open && relay.hasHandlers(HTTP_STATE);
            final boolean upgraded = open && relay.hasHandlers(DerpUpgrade.DERP_HANDLER) &&
                relay.hasNoHandlers(HTTP_STATE);
            assertThat(!open || awaitingRequest || upgraded)
                .as("open, but neither serving HTTP nor upgraded: %s", relay.channel().pipeline().names())
                .isTrue();
            if (awaitingRequest)
            {
                relay.advanceSeconds(31);
                assertThat(relay.channel().isOpen()).as("closed by the read timeout").isFalse();
            }
            assertWellFormedResponses(relay.takeWritten(), input.length);
        }
        finally
        {
            relay.closeAndAssertNothingHeld();
            assertThat(LOGS.takeUnexpected()).as("exceptions the handlers caught").isEmpty();
        }
    }

    @Test
    void theFastStartSeedLogsIn() throws IOException
    {
        final byte[] seed;
        try (InputStream in = HttpRequestHeadFuzzTest.class.getResourceAsStream(
            "HttpRequestHeadFuzzTestInputs/requestsAreAnsweredRefusedOrUpgraded/derp-fast-start"))
        {
            assertThat(in).isNotNull();
            seed = in.readAllBytes();
        }
        final EmbeddedRelay relay = new EmbeddedRelay(EmbeddedRelay.Listener.MAIN);

        relay.read(seed, 1, seed.length);

        final byte[] written = relay.takeWritten();
        assertThat(startsWith(written, 0, EmbeddedRelay.SERVER_KEY_FRAME)).as("fast start: ServerKey first").isTrue();
        assertThat(written.length).as("then ServerInfo: the seed's ClientInfo was accepted")
            .isGreaterThan(EmbeddedRelay.SERVER_KEY_FRAME.length);
        assertThat(relay.channel().isOpen()).isTrue();
        relay.closeAndAssertNothingHeld();
        assertThat(LOGS.takeUnexpected()).isEmpty();
    }

    /**
     * Walks the responses: status line, header lines, Content-Length body (absent for HEAD); a 101 or a fast-start
     * ServerKey frame ends HTTP and what follows is DERP or WebSocket.
     */
    private static void assertWellFormedResponses(final byte[] written, final int requestBytes)
    {
        int at = 0;
        while (at < written.length)
        {
            final int start = at;
            if (startsWith(written, at, EmbeddedRelay.SERVER_KEY_FRAME))
            {
                return;
            }
            final int headEnd = indexOf(written, at, "\r\n\r\n");
            assertThat(headEnd).as("response head ends: %s", show(written, at)).isPositive();
            final String[] lines = new String(written, at, headEnd - at, StandardCharsets.ISO_8859_1).split("\r\n", -1);
            final Matcher status = STATUS_LINE.matcher(lines[0]);
            assertThat(status.matches()).as("status line: %s", lines[0]).isTrue();
            final int code = Integer.parseInt(status.group(1));
            long contentLength = -1;
            for (int i = 1; i < lines.length; i++)
            {
                final Matcher header = HEADER_LINE.matcher(lines[i]);
                assertThat(header.matches()).as("header line: %s", lines[i]).isTrue();
                if (lines[i].regionMatches(true, 0, "Content-Length:", 0, 15))
                {
                    assertThat(contentLength).as("one Content-Length").isEqualTo(-1);
                    contentLength = Long.parseLong(header.group(1).strip());
                }
            }
            at = headEnd + 4;
            if (101 == code)
            {
                return;
            }
            if (code >= 200 && 204 != code && 304 != code)
            {
                assertThat(contentLength).as("Content-Length of a %d", code).isNotNegative();
                // A HEAD request's answer has the length but no body; no body starts with a status line.
                if (!startsWith(written, at, "HTTP/1.".getBytes(StandardCharsets.US_ASCII)) && at < written.length)
                {
                    at += (int)contentLength;
                }
            }
            assertThat(at - start).as("response within its fixed text plus what the client sent: %s",
                show(written, start)).isLessThanOrEqualTo(MAX_FIXED_RESPONSE + requestBytes);
            assertThat(at).as("body within what was written").isLessThanOrEqualTo(written.length);
        }
    }

    private static boolean startsWith(final byte[] bytes, final int at, final byte[] prefix)
    {
        return bytes.length - at >= prefix.length &&
            Arrays.equals(bytes, at, at + prefix.length, prefix, 0, prefix.length);
    }

    private static int indexOf(final byte[] bytes, final int from, final String text)
    {
        final byte[] needle = text.getBytes(StandardCharsets.US_ASCII);
        for (int i = from; i <= bytes.length - needle.length; i++)
        {
            if (startsWith(bytes, i, needle))
            {
                return i;
            }
        }
        return -1;
    }

    private static String show(final byte[] bytes, final int from)
    {
        return new String(bytes, from, Math.min(200, bytes.length - from), StandardCharsets.ISO_8859_1);
    }
}
