package io.jderper.transport.http;

import io.jderper.core.protocol.Violation;
import io.jderper.core.router.RelayMetrics;
import io.jderper.tls.ClientHelloPeek;
import io.jderper.tls.TlsBuffers;
import io.jderper.tls.TlsEngineRelease;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

/**
 * First handler on the TLS port: looks at the first byte and either installs TLS, tells a plain-HTTP client it
 * reached an HTTPS port (as Go's server does), or closes a connection that speaks neither. Each rejection is
 * logged once and counted.
 */
public final class TlsSniffer extends ByteToMessageDecoder
{
    private static final Logger LOG = LoggerFactory.getLogger(TlsSniffer.class);
    private static final byte TLS_HANDSHAKE_RECORD = 0x16;
    private static final byte[] HTTP_ON_TLS_PORT = ("HTTP/1.0 400 Bad Request\r\n\r\n" +
        "Client sent an HTTP request to an HTTPS server.\n").getBytes(StandardCharsets.US_ASCII);
    /** Pipeline name of the TLS handler once installed. */
    public static final String TLS_HANDLER = "tls";

    private final SslContext sslContext;
    private final RelayMetrics metrics;
    private final Optional<TlsAlpnValidation> acme;

    /**
     * @param sslContext server TLS context.
     * @param metrics    where rejections are counted.
     * @param acme       ACME tls-alpn-01 validations to answer, if the certificates come from ACME.
     */
    public TlsSniffer(final SslContext sslContext, final RelayMetrics metrics, final Optional<TlsAlpnValidation> acme)
    {
        this.sslContext = sslContext;
        this.metrics = metrics;
        this.acme = acme;
    }

    @Override
    protected void decode(final ChannelHandlerContext ctx, final ByteBuf in, final List<Object> out)
    {
        if (!in.isReadable())
        {
            return;
        }
        final byte first = in.getByte(in.readerIndex());
        if (TLS_HANDSHAKE_RECORD == first)
        {
            SslContext context = sslContext;
            if (acme.isPresent() && acme.get().active())
            {
                final int record = ClientHelloPeek.recordLength(in.nioBuffer(in.readerIndex(),
                    Math.min(5, in.readableBytes())));
                if (record <= ClientHelloPeek.MAX_RECORD && in.readableBytes() < record)
                {
                    return;
                }
                final Optional<ClientHelloPeek> hello = record > ClientHelloPeek.MAX_RECORD ? Optional.empty() :
                    ClientHelloPeek.parse(in.nioBuffer(in.readerIndex(), record));
                if (hello.isPresent() && hello.get().offersAcmeTls() && hello.get().serverName().isPresent())
                {
                    final Optional<SslContext> validation = acme.get().contextFor(hello.get().serverName().get());
                    if (validation.isPresent())
                    {
                        LOG.info("answering an ACME tls-alpn-01 validation for {} from {}",
                            hello.get().serverName().get(), ctx.channel().remoteAddress());
                        context = validation.get();
                    }
                }
            }
            final SslHandler tls = context.newHandler(ctx.alloc());
            // The handshake's deadline runs from accept, in TlsHandshakeDeadline; Netty's own would run from here.
            tls.setHandshakeTimeoutMillis(0);
            TlsBuffers.preferDirectForConscrypt(ctx.channel(), tls.engine());
            ctx.pipeline().replace(this, TLS_HANDLER, tls);
            ctx.pipeline().addAfter(TLS_HANDLER, TlsEngineRelease.NAME, new TlsEngineRelease(tls.engine()));
            return;
        }
        metrics.violation(Violation.BAD_TRANSPORT);
        in.skipBytes(in.readableBytes());
        if (first >= 'A' && first <= 'Z')
        {
            LOG.info("plain HTTP request on the TLS port from {}", ctx.channel().remoteAddress());
            ctx.writeAndFlush(Unpooled.wrappedBuffer(HTTP_ON_TLS_PORT)).addListener(ChannelFutureListener.CLOSE);
        }
        else
        {
            LOG.info("closing connection from {}: not TLS (first byte 0x{})", ctx.channel().remoteAddress(),
                String.format("%02x", first & 0xFF));
            ctx.close();
        }
    }
}
