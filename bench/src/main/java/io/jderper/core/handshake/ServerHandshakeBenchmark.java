package io.jderper.core.handshake;

import io.jderper.bench.AbstractMicrobenchmark;
import io.jderper.core.crypto.NaclBox;
import io.jderper.core.key.NodePrivateKey;
import io.jderper.core.key.NodePublicKey;
import io.jderper.core.protocol.ClientFrames;
import io.jderper.core.protocol.FrameHeader;
import io.jderper.core.protocol.FrameType;
import org.agrona.concurrent.UnsafeBuffer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The server's per-connection handshake cost: {@link ServerHandshake#openClientInfo} on a real ClientInfo frame
 * (key checks, one X25519 shared key, NaCl box open, JSON decode, and the ServerInfo box sealed with the same key),
 * and {@link ServerHandshake#serverInfoFrame} (a ServerInfo box sealed on its own, with its own X25519). Allocation
 * is expected here and only reported.
 */
@State(Scope.Thread)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class ServerHandshakeBenchmark extends AbstractMicrobenchmark
{
    static final byte[] CLIENT_INFO_JSON = "{\"version\":2,\"CanAckPings\":true}".getBytes(StandardCharsets.UTF_8);

    private ServerHandshake handshake;
    private UnsafeBuffer frame;
    private int payloadLength;
    private NodePublicKey clientPublic;

    /**
     * Builds the server and one ClientInfo frame, exactly as a client writes it.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        final SecureRandom random = new SecureRandom();
        final NodePrivateKey serverKey = NodePrivateKey.generate(random);
        final NodePrivateKey clientKey = NodePrivateKey.generate(random);
        handshake = new ServerHandshake(serverKey, Optional.empty(), random);
        clientPublic = clientKey.publicKey();
        final byte[] sealed = NaclBox.seal(clientKey, serverKey.publicKey().toBytes(), CLIENT_INFO_JSON, random);
        frame = new UnsafeBuffer(new byte[1024]);
        final int length = ClientFrames.clientInfo(frame, 0, clientPublic.toBytes(), sealed);
        payloadLength = length - FrameHeader.LENGTH;
        if (!handshake.openClientInfo(FrameHeader.type(frame, 0), frame, FrameHeader.LENGTH, payloadLength).info()
            .canAckPings())
        {
            throw new IllegalStateException("ClientInfo did not decode");
        }
    }

    /**
     * @return the authenticated client.
     */
    @Benchmark
    public ServerHandshake.AuthenticatedClient openClientInfo()
    {
        return handshake.openClientInfo(FrameType.CLIENT_INFO, frame, FrameHeader.LENGTH, payloadLength);
    }

    /**
     * @return the sealed ServerInfo frame.
     */
    @Benchmark
    public byte[] serverInfoFrame()
    {
        return handshake.serverInfoFrame(clientPublic);
    }
}
