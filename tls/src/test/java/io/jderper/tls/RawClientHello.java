package io.jderper.tls;

import java.io.ByteArrayOutputStream;

/**
 * Builds a minimal TLS 1.1 or 1.2 ClientHello record byte by byte (RFC 5246 §7.4.1.2), with no SNI and no
 * supported_versions extension, so the legacy version field is the only version offered.
 */
final class RawClientHello
{
    static final int TLS_1_1 = 0x0302;
    static final int TLS_1_2 = 0x0303;

    static final int CONTENT_ALERT = 0x15;
    static final int CONTENT_HANDSHAKE = 0x16;
    static final int HANDSHAKE_SERVER_HELLO = 0x02;
    static final int ALERT_FATAL = 0x02;
    static final int ALERT_PROTOCOL_VERSION = 70;

    private static final int[] CIPHER_SUITES = {
        0xC02B, // TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 (TLS 1.2 only)
        0xC02F, // TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 (TLS 1.2 only)
        0xC009, // TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA
        0xC013, // TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA
        0x002F, // TLS_RSA_WITH_AES_128_CBC_SHA
    };

    private RawClientHello()
    {
    }

    static byte[] record(final int version)
    {
        final ByteArrayOutputStream extensions = new ByteArrayOutputStream();
        // supported_groups: x25519, secp256r1
        extension(extensions, 0x000A, new byte[] {0x00, 0x04, 0x00, 0x1D, 0x00, 0x17});
        // ec_point_formats: uncompressed
        extension(extensions, 0x000B, new byte[] {0x01, 0x00});
        // renegotiation_info: empty, i.e. a fresh connection
        extension(extensions, 0xFF01, new byte[] {0x00});
        if (version >= TLS_1_2)
        {
            // signature_algorithms: ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256, rsa_pkcs1_sha256
            extension(extensions, 0x000D, new byte[] {0x00, 0x06, 0x04, 0x03, 0x08, 0x04, 0x04, 0x01});
        }

        final ByteArrayOutputStream body = new ByteArrayOutputStream();
        u16(body, version);
        body.writeBytes(new byte[32]); // random: unpredictability is irrelevant to a hello nobody finishes
        body.write(0); // empty session id
        u16(body, CIPHER_SUITES.length * 2);
        for (final int suite : CIPHER_SUITES)
        {
            u16(body, suite);
        }
        body.write(1); // one compression method:
        body.write(0); // null
        u16(body, extensions.size());
        body.writeBytes(extensions.toByteArray());

        final ByteArrayOutputStream handshake = new ByteArrayOutputStream();
        handshake.write(0x01); // client_hello
        u24(handshake, body.size());
        handshake.writeBytes(body.toByteArray());

        final ByteArrayOutputStream record = new ByteArrayOutputStream();
        record.write(CONTENT_HANDSHAKE);
        u16(record, 0x0301); // record-layer version stays 1.0 for compatibility, as real clients send
        u16(record, handshake.size());
        record.writeBytes(handshake.toByteArray());
        return record.toByteArray();
    }

    private static void extension(final ByteArrayOutputStream out, final int type, final byte[] data)
    {
        u16(out, type);
        u16(out, data.length);
        out.writeBytes(data);
    }

    private static void u16(final ByteArrayOutputStream out, final int value)
    {
        out.write(value >>> 8);
        out.write(value);
    }

    private static void u24(final ByteArrayOutputStream out, final int value)
    {
        out.write(value >>> 16);
        u16(out, value);
    }
}
