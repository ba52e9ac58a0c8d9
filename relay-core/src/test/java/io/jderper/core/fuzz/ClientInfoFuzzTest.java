package io.jderper.core.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import io.jderper.core.handshake.ClientInfoCodec;
import io.jderper.core.protocol.ProtocolException;

class ClientInfoFuzzTest
{
    @FuzzTest(maxDuration = "30s")
    void decodeNeverFailsOtherThanWithAProtocolException(final byte[] json)
    {
        try
        {
            ClientInfoCodec.decode(json);
        }
        catch (final ProtocolException expected)
        {
            // Refused input is fine; anything else escaping is a bug.
        }
    }
}
