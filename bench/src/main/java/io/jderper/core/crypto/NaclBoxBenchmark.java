package io.jderper.core.crypto;

import io.jderper.bench.AbstractMicrobenchmark;
import io.jderper.core.key.NodePrivateKey;
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
 * The handshake's crypto: sealing and opening a NaCl box of a 32-byte ClientInfo JSON (tailscaled's), once per
 * connection in each direction. Each includes an X25519 scalar multiplication, which dominates. These allocate
 * (BouncyCastle engines, key material, the result) and are expected to: {@code gc.alloc.rate.norm} is reported,
 * not checked.
 */
@State(Scope.Thread)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class NaclBoxBenchmark extends AbstractMicrobenchmark
{
    /** What tailscaled sends, exactly 32 bytes. */
    static final byte[] CLIENT_INFO_JSON = "{\"version\":2,\"CanAckPings\":true}".getBytes(StandardCharsets.UTF_8);

    private final SecureRandom random = new SecureRandom();
    private NodePrivateKey client;
    private NodePrivateKey server;
    private byte[] clientPublic;
    private byte[] serverPublic;
    private byte[] box;

    /**
     * Makes both keys and one sealed box to open.
     */
    @Setup(Level.Trial)
    public void setUp()
    {
        if (CLIENT_INFO_JSON.length != 32)
        {
            throw new IllegalStateException("json length=" + CLIENT_INFO_JSON.length);
        }
        client = NodePrivateKey.generate(random);
        server = NodePrivateKey.generate(random);
        clientPublic = client.publicKey().toBytes();
        serverPublic = server.publicKey().toBytes();
        box = NaclBox.seal(client, serverPublic, CLIENT_INFO_JSON, random);
        if (NaclBox.open(server, clientPublic, 0, box, 0, box.length).isEmpty())
        {
            throw new IllegalStateException("box does not open");
        }
    }

    /**
     * @return nonce || tag || ciphertext.
     */
    @Benchmark
    public byte[] seal()
    {
        return NaclBox.seal(client, serverPublic, CLIENT_INFO_JSON, random);
    }

    /**
     * @return the plaintext.
     */
    @Benchmark
    public Optional<byte[]> open()
    {
        return NaclBox.open(server, clientPublic, 0, box, 0, box.length);
    }
}
