package io.jderper.loadgen;

import io.jderper.transport.client.DerpTrust;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * A checked load run: what {@link LoadGen} made of the command line.
 *
 * @param commandLine        the arguments as given.
 * @param url                the DERP URL; null for the stun scenario when only {@code stunServer} was given.
 * @param trust              how the server certificate is checked.
 * @param clients            simulated peers.
 * @param scenario           what they do.
 * @param discoFraction      share of packets sent as disco (0 to 1).
 * @param packetSize         payload bytes per packet.
 * @param ratePerSender      packets per second per sender; 0 means as fast as the window allows.
 * @param window             most packets in flight per sender.
 * @param duration           how long the scenario runs.
 * @param connectRate        handshakes started per second while ramping; 0 means unlimited.
 * @param connectConcurrency most handshakes in flight while ramping (and while churning).
 * @param churnRate          clients closed and reopened per second in the churn scenario.
 * @param hold               idle: how long to hold; other scenarios: idle time between connect and traffic.
 * @param sourceAddresses    local addresses the clients are spread over; empty means the system's choice.
 * @param threads            event loop threads.
 * @param serverPid          process to sample (CPU, RSS), or -1.
 * @param out                directory for the results.
 * @param seed               seed of every random choice (keys, filler, disco mix).
 * @param maxErrorFraction   connection errors tolerated, as a share of connection attempts.
 * @param failOnLoss         whether any lost packet fails the run.
 * @param lossless           whether the window profile cannot overflow the relay's per-client queue.
 * @param bidirectional      pairs: both directions.
 * @param faninSenders       fanin: senders per receiver.
 * @param drain              how long to wait for packets in flight after the scenario.
 * @param pingInterval       idle: how often each client Pings the server (one Ping in flight at most); zero: never.
 * @param handshakeTimeout   bound on one connect and handshake.
 * @param tlsProvider        auto, conscrypt, openssl or jdk.
 * @param stunServer         stun: where the binding requests go; null for the DERP scenarios.
 * @param stunTimeout        stun: how long a request may go unanswered before it counts as lost.
 * @param bearerToken        sent as {@code Authorization: Bearer} with every upgrade (jderper's
 *                           {@code -bearer-token-file} admission), or null.
 * @param churnTraffic       churn: the peers also send packets in pairs, and a pair is churned together once its
 *                           packets in flight have arrived.
 */
record LoadSettings(
    List<String> commandLine,
    URI url,
    DerpTrust trust,
    int clients,
    Scenario scenario,
    double discoFraction,
    int packetSize,
    double ratePerSender,
    int window,
    Duration duration,
    double connectRate,
    int connectConcurrency,
    double churnRate,
    Duration hold,
    List<InetAddress> sourceAddresses,
    int threads,
    long serverPid,
    Path out,
    long seed,
    double maxErrorFraction,
    boolean failOnLoss,
    boolean lossless,
    boolean bidirectional,
    int faninSenders,
    Duration drain,
    Duration pingInterval,
    Duration handshakeTimeout,
    String tlsProvider,
    InetSocketAddress stunServer,
    Duration stunTimeout,
    String bearerToken,
    boolean churnTraffic)
{
    /** Depth of the relay's per-client queue (jderper's and Go derper's): the lossless window profile stays under. */
    static final int RELAY_QUEUE_DEPTH = 32;

    /**
     * @return whether the scenario sends packets.
     */
    boolean hasTraffic()
    {
        return Scenario.PAIRS == scenario || Scenario.FANIN == scenario ||
            (Scenario.CHURN == scenario && churnTraffic);
    }

    /**
     * @return senders whose packets share one receiver's queue.
     */
    int sendersPerReceiver()
    {
        return Scenario.FANIN == scenario ? faninSenders : 1;
    }
}
