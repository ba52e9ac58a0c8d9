package io.jderper.stun.server;

import org.agrona.concurrent.UnsafeBuffer;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.nio.ByteOrder;
import java.util.Locale;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The Linux engine: {@code recvmmsg}/{@code sendmmsg} through the Foreign Function &amp; Memory API, up to
 * {@value #BATCH} datagrams per system call, with every header, address and buffer allocated once off-heap. Nothing is
 * allocated per datagram. Netty's datagram channels were not used because they wrap every datagram in a new
 * {@code DatagramPacket} and sender {@code InetSocketAddress}.
 *
 * <p>Struct layouts are those of the LP64 Linux ABI, identical on x86_64 and aarch64, the two architectures
 * {@link #isSupported()} accepts.
 */
final class LinuxBatchEngine implements DatagramEngine
{
    /** Datagrams per system call. */
    static final int BATCH = 64;
    /** Receive buffer per datagram: a Tailscale request is 40 bytes; longer datagrams are counted as truncated. */
    static final int RECEIVE_SLOT_LENGTH = 2048;

    private static final int AF_INET = 2;
    private static final int AF_INET6 = 10;
    private static final int SOCK_DGRAM = 2;
    private static final int SOCK_CLOEXEC = 0x80000;
    private static final int SOL_SOCKET = 1;
    private static final int SO_RCVTIMEO = 20;
    private static final int SO_SNDTIMEO = 21;
    private static final int IPPROTO_IPV6 = 41;
    private static final int IPV6_V6ONLY = 26;
    private static final int MSG_TRUNC = 0x20;
    private static final int MSG_WAITFORONE = 0x10000;
    private static final int SHUT_RDWR = 2;
    private static final int EINTR = 4;
    private static final int EAGAIN = 11;
    private static final int EAFNOSUPPORT = 97;

    /** sockaddr_in6 is 28 bytes; slots are 32 to keep them aligned. */
    private static final int NAME_SLOT_LENGTH = 32;
    private static final int SOCKADDR_IN_LENGTH = 16;
    private static final int SOCKADDR_IN6_LENGTH = 28;
    private static final int IOVEC_LENGTH = 16;
    /** struct mmsghdr: a 56-byte msghdr, then the 4-byte msg_len, padded to 64. */
    private static final int MMSGHDR_LENGTH = 64;
    private static final int MSG_NAME = 0;
    private static final int MSG_NAMELEN = 8;
    private static final int MSG_IOV = 16;
    private static final int MSG_IOVLEN = 24;
    private static final int MSG_FLAGS = 48;
    private static final int MSG_LEN = 56;
    /** Every wait is bounded: an idle receive returns after this long to look at the stop flag. */
    private static final long SOCKET_TIMEOUT_SECONDS = 1;

    private static final ByteOrder NATIVE = ByteOrder.nativeOrder();

    private final int fd;
    private final int family;
    private final InetSocketAddress localAddress;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment errnoState;
    private final MemorySegment receiveHeaders;
    private final MemorySegment sendHeaders;
    /** sendHeaders from each index on, made once so that resending after a failure allocates nothing. */
    private final MemorySegment[] sendHeadersFrom = new MemorySegment[BATCH];
    private final MemorySegment sendVectors;
    private final UnsafeBuffer receiveData;
    private final UnsafeBuffer names;
    private final UnsafeBuffer replies;
    private final ErrorLog errors = new ErrorLog();
    private volatile boolean running = true;

    private LinuxBatchEngine(final int fd, final int family, final InetSocketAddress localAddress)
    {
        this.fd = fd;
        this.family = family;
        this.localAddress = localAddress;
        errnoState = arena.allocate(Native.ERRNO_STATE);
        final MemorySegment receiveSlots = arena.allocate((long)BATCH * RECEIVE_SLOT_LENGTH, 64);
        final MemorySegment nameSlots = arena.allocate((long)BATCH * NAME_SLOT_LENGTH, 64);
        final MemorySegment replySlots = arena.allocate((long)BATCH * StunResponder.MAX_REPLY_LENGTH, 64);
        final MemorySegment receiveVectors = arena.allocate((long)BATCH * IOVEC_LENGTH, 64);
        receiveHeaders = arena.allocate((long)BATCH * MMSGHDR_LENGTH, 64);
        sendVectors = arena.allocate((long)BATCH * IOVEC_LENGTH, 64);
        sendHeaders = arena.allocate((long)BATCH * MMSGHDR_LENGTH, 64);
        for (int i = 0; i < BATCH; i++)
        {
            final long vector = (long)i * IOVEC_LENGTH;
            receiveVectors.set(JAVA_LONG, vector, receiveSlots.address() + (long)i * RECEIVE_SLOT_LENGTH);
            receiveVectors.set(JAVA_LONG, vector + 8, RECEIVE_SLOT_LENGTH);
            sendVectors.set(JAVA_LONG, vector, replySlots.address() + (long)i * StunResponder.MAX_REPLY_LENGTH);
            final long header = (long)i * MMSGHDR_LENGTH;
            receiveHeaders.set(JAVA_LONG, header + MSG_NAME, nameSlots.address() + (long)i * NAME_SLOT_LENGTH);
            receiveHeaders.set(JAVA_LONG, header + MSG_IOV, receiveVectors.address() + vector);
            receiveHeaders.set(JAVA_LONG, header + MSG_IOVLEN, 1);
            sendHeaders.set(JAVA_LONG, header + MSG_IOV, sendVectors.address() + vector);
            sendHeaders.set(JAVA_LONG, header + MSG_IOVLEN, 1);
        }
        for (int i = 0; i < BATCH; i++)
        {
            sendHeadersFrom[i] = sendHeaders.asSlice((long)i * MMSGHDR_LENGTH);
        }
        receiveData = new UnsafeBuffer(receiveSlots.address(), (int)receiveSlots.byteSize());
        names = new UnsafeBuffer(nameSlots.address(), (int)nameSlots.byteSize());
        replies = new UnsafeBuffer(replySlots.address(), (int)replySlots.byteSize());
    }

    /**
     * @return whether this engine can run here: Linux on x86_64 or aarch64 with the system calls linkable.
     */
    static boolean isSupported()
    {
        final String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        final String arch = System.getProperty("os.arch", "").toLowerCase(Locale.ROOT);
        if (!os.startsWith("linux") || !(arch.equals("amd64") || arch.equals("x86_64") || arch.equals("aarch64")))
        {
            return false;
        }
        try
        {
            return null != Native.RECVMMSG;
        }
        catch (final LinkageError ex)
        {
            return false;
        }
    }

    /**
     * Opens and binds the socket. A wildcard address gets a dual-stack IPv6 socket, as Go's {@code ListenUDP} gives
     * derper, or IPv4 alone where the kernel has no IPv6.
     *
     * @param bind where to listen.
     * @return the engine, bound.
     * @throws IOException with the system's reason if the socket cannot be opened or bound.
     */
    static LinuxBatchEngine open(final InetSocketAddress bind) throws IOException
    {
        final InetAddress address = bind.getAddress();
        final boolean wildcard = address.isAnyLocalAddress();
        int family = wildcard || !(address instanceof Inet4Address) ? AF_INET6 : AF_INET;
        try (Arena scratch = Arena.ofConfined())
        {
            final MemorySegment state = scratch.allocate(Native.ERRNO_STATE);
            int fd = Native.socket(state, family);
            if (fd < 0 && wildcard && Native.errno(state) == EAFNOSUPPORT)
            {
                family = AF_INET;
                fd = Native.socket(state, family);
            }
            if (fd < 0)
            {
                throw new IOException("cannot open a UDP socket: " + Native.describe(Native.errno(state)));
            }
            try
            {
                configure(scratch, state, fd, family, wildcard);
                final MemorySegment name = scratch.allocate(NAME_SLOT_LENGTH, 8);
                final int nameLength = writeSockaddr(name, family, wildcard ? null : address, bind.getPort());
                if (Native.bind(state, fd, name, nameLength) < 0)
                {
                    throw new IOException("cannot listen on UDP " + printable(bind) + ": " +
                        Native.describe(Native.errno(state)));
                }
                final MemorySegment nameLengthOut = scratch.allocate(JAVA_INT);
                nameLengthOut.set(JAVA_INT, 0, NAME_SLOT_LENGTH);
                if (Native.getsockname(state, fd, name, nameLengthOut) < 0)
                {
                    throw new IOException("getsockname: " + Native.describe(Native.errno(state)));
                }
                return new LinuxBatchEngine(fd, family, readSockaddr(name));
            }
            catch (final IOException | RuntimeException ex)
            {
                Native.close(fd);
                throw ex;
            }
        }
    }

    private static void configure(final Arena scratch, final MemorySegment state, final int fd, final int family,
        final boolean wildcard) throws IOException
    {
        if (AF_INET6 == family && wildcard)
        {
            final MemorySegment off = scratch.allocate(JAVA_INT);
            off.set(JAVA_INT, 0, 0);
            setOption(state, fd, IPPROTO_IPV6, IPV6_V6ONLY, off, "IPV6_V6ONLY");
        }
        final MemorySegment timeval = scratch.allocate(16, 8);
        timeval.set(JAVA_LONG, 0, SOCKET_TIMEOUT_SECONDS);
        timeval.set(JAVA_LONG, 8, 0);
        setOption(state, fd, SOL_SOCKET, SO_RCVTIMEO, timeval, "SO_RCVTIMEO");
        setOption(state, fd, SOL_SOCKET, SO_SNDTIMEO, timeval, "SO_SNDTIMEO");
    }

    private static void setOption(final MemorySegment state, final int fd, final int level, final int option,
        final MemorySegment value, final String name) throws IOException
    {
        if (Native.setsockopt(state, fd, level, option, value, (int)value.byteSize()) < 0)
        {
            throw new IOException("setsockopt " + name + ": " + Native.describe(Native.errno(state)));
        }
    }

    private static int writeSockaddr(final MemorySegment name, final int family, final InetAddress address,
        final int port)
    {
        name.fill((byte)0);
        name.set(ValueLayout.JAVA_SHORT, 0, (short)family);
        name.set(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 2, (short)port);
        if (null == address)
        {
            return AF_INET6 == family ? SOCKADDR_IN6_LENGTH : SOCKADDR_IN_LENGTH;
        }
        final byte[] bytes = address.getAddress();
        MemorySegment.copy(MemorySegment.ofArray(bytes), 0, name, AF_INET6 == family ? 8 : 4, bytes.length);
        return AF_INET6 == family ? SOCKADDR_IN6_LENGTH : SOCKADDR_IN_LENGTH;
    }

    private static InetSocketAddress readSockaddr(final MemorySegment name) throws UnknownHostException
    {
        final int family = name.get(ValueLayout.JAVA_SHORT, 0);
        final int port = name.get(ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.BIG_ENDIAN), 2) & 0xFFFF;
        final byte[] bytes = AF_INET6 == family ? new byte[16] : new byte[4];
        MemorySegment.copy(name, AF_INET6 == family ? 8 : 4, MemorySegment.ofArray(bytes), 0, bytes.length);
        return new InetSocketAddress(InetAddress.getByAddress(bytes), port);
    }

    static String printable(final InetSocketAddress address)
    {
        final String host = address.getAddress().getHostAddress();
        return (host.contains(":") ? "[" + host + "]" : host) + ":" + address.getPort();
    }

    @Override
    public String description()
    {
        return "recvmmsg/sendmmsg, " + BATCH + " datagrams per call, " +
            (AF_INET6 == family ? "IPv6 socket" : "IPv4 socket");
    }

    @Override
    public InetSocketAddress localAddress()
    {
        return localAddress;
    }

    @Override
    public void serve(final StunResponder responder)
    {
        final StunCounters counters = responder.counters();
        int filled = BATCH;
        while (running)
        {
            // The kernel overwrote each used msg_namelen with the sender's length; give back the full room.
            for (int i = 0; i < filled; i++)
            {
                receiveHeaders.set(JAVA_INT, (long)i * MMSGHDR_LENGTH + MSG_NAMELEN, NAME_SLOT_LENGTH);
            }
            final int received = Native.recvmmsg(errnoState, fd, receiveHeaders, BATCH, MSG_WAITFORONE);
            if (received < 0)
            {
                final int errno = Native.errno(errnoState);
                if (EAGAIN != errno && EINTR != errno && running)
                {
                    counters.readErrors.increment();
                    errors.log("receive", Native.describe(errno));
                }
                filled = 0;
                continue;
            }
            if (!running)
            {
                // After shutdown() the kernel reports an empty "datagram"; it is not one.
                break;
            }
            filled = received;
            int answers = 0;
            for (int i = 0; i < received; i++)
            {
                if (answer(responder, i, answers))
                {
                    answers++;
                }
            }
            send(counters, answers);
        }
    }

    /**
     * Answers received datagram {@code index} into reply slot {@code slot}; true if there is a reply to send.
     */
    private boolean answer(final StunResponder responder, final int index, final int slot)
    {
        final long header = (long)index * MMSGHDR_LENGTH;
        if ((receiveHeaders.get(JAVA_INT, header + MSG_FLAGS) & MSG_TRUNC) != 0)
        {
            responder.truncated();
            return false;
        }
        final int name = index * NAME_SLOT_LENGTH;
        final int senderFamily = names.getShort(name, NATIVE);
        final int port = names.getShort(name + 2, ByteOrder.BIG_ENDIAN) & 0xFFFF;
        final boolean ipv6 = AF_INET6 == senderFamily;
        final int length = responder.respond(receiveData, index * RECEIVE_SLOT_LENGTH,
            receiveHeaders.get(JAVA_INT, header + MSG_LEN),
            names, name + (ipv6 ? 8 : 4), ipv6 ? 16 : 4, port,
            replies, slot * StunResponder.MAX_REPLY_LENGTH);
        if (0 == length)
        {
            return false;
        }
        final long reply = (long)slot * MMSGHDR_LENGTH;
        sendHeaders.set(JAVA_LONG, reply + MSG_NAME, names.addressOffset() + name);
        sendHeaders.set(JAVA_INT, reply + MSG_NAMELEN, receiveHeaders.get(JAVA_INT, header + MSG_NAMELEN));
        sendVectors.set(JAVA_LONG, (long)slot * IOVEC_LENGTH + 8, length);
        return true;
    }

    private void send(final StunCounters counters, final int answers)
    {
        int sent = 0;
        while (sent < answers && running)
        {
            final int result = Native.sendmmsg(errnoState, fd, sendHeadersFrom[sent], answers - sent);
            if (result > 0)
            {
                counters.replies.add(result);
                sent += result;
                continue;
            }
            final int errno = Native.errno(errnoState);
            if (EINTR == errno)
            {
                continue;
            }
            // The reply at the head failed on its own (say, an unreachable sender): count it, go on with the rest.
            counters.writeErrors.increment();
            errors.log("send", Native.describe(errno));
            sent++;
        }
    }

    @Override
    public void stop()
    {
        running = false;
        // Wakes a thread blocked in recvmmsg at once; the receive timeout bounds the wait if it did not.
        Native.shutdown(fd, SHUT_RDWR);
    }

    @Override
    public void release()
    {
        Native.close(fd);
        arena.close();
    }

    /**
     * The system calls, bound once. Each takes a segment that receives errno, since the JVM may change errno before
     * Java code could read it.
     */
    private static final class Native
    {
        static final StructLayout ERRNO_STATE = Linker.Option.captureStateLayout();
        private static final long ERRNO_OFFSET =
            ERRNO_STATE.byteOffset(MemoryLayout.PathElement.groupElement("errno"));
        private static final Linker LINKER = Linker.nativeLinker();
        private static final SymbolLookup LIBC = LINKER.defaultLookup();
        private static final Linker.Option ERRNO = Linker.Option.captureCallState("errno");

        static final MethodHandle SOCKET = bindErrno("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT,
            JAVA_INT));
        static final MethodHandle SETSOCKOPT = bindErrno("setsockopt", FunctionDescriptor.of(JAVA_INT, JAVA_INT,
            JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT));
        static final MethodHandle BIND = bindErrno("bind", FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS,
            JAVA_INT));
        static final MethodHandle GETSOCKNAME = bindErrno("getsockname", FunctionDescriptor.of(JAVA_INT, JAVA_INT,
            ADDRESS, ADDRESS));
        static final MethodHandle RECVMMSG = bindErrno("recvmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT,
            ADDRESS, JAVA_INT, JAVA_INT, ADDRESS));
        static final MethodHandle SENDMMSG = bindErrno("sendmmsg", FunctionDescriptor.of(JAVA_INT, JAVA_INT,
            ADDRESS, JAVA_INT, JAVA_INT));
        static final MethodHandle SHUTDOWN = bind("shutdown", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT));
        static final MethodHandle CLOSE = bind("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT));
        static final MethodHandle STRERROR = bind("strerror", FunctionDescriptor.of(ADDRESS, JAVA_INT));

        private Native()
        {
        }

        private static MethodHandle bindErrno(final String name, final FunctionDescriptor descriptor)
        {
            return LINKER.downcallHandle(LIBC.findOrThrow(name), descriptor, ERRNO);
        }

        private static MethodHandle bind(final String name, final FunctionDescriptor descriptor)
        {
            return LINKER.downcallHandle(LIBC.findOrThrow(name), descriptor);
        }

        static int errno(final MemorySegment state)
        {
            return state.get(JAVA_INT, ERRNO_OFFSET);
        }

        static String describe(final int errno)
        {
            try
            {
                final MemorySegment text = (MemorySegment)STRERROR.invokeExact(errno);
                return text.reinterpret(256).getString(0) + " (errno " + errno + ")";
            }
            catch (final Throwable ex)
            {
                return "errno " + errno;
            }
        }

        static int socket(final MemorySegment state, final int family)
        {
            try
            {
                return (int)SOCKET.invokeExact(state, family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
            }
            catch (final Throwable ex)
            {
                throw new IllegalStateException("socket", ex);
            }
        }

        static int setsockopt(final MemorySegment state, final int fd, final int level, final int option,
            final MemorySegment value, final int length)
        {
            try
            {
                return (int)SETSOCKOPT.invokeExact(state, fd, level, option, value, length);
            }
            catch (final Throwable ex)
            {
                throw new IllegalStateException("setsockopt", ex);
            }
        }

        static int bind(final MemorySegment state, final int fd, final MemorySegment name, final int length)
        {
            try
            {
                return (int)BIND.invokeExact(state, fd, name, length);
            }
            catch (final Throwable ex)
            {
                throw new IllegalStateException("bind", ex);
            }
        }

        static int getsockname(final MemorySegment state, final int fd, final MemorySegment name,
            final MemorySegment length)
        {
            try
            {
                return (int)GETSOCKNAME.invokeExact(state, fd, name, length);
            }
            catch (final Throwable ex)
            {
                throw new IllegalStateException("getsockname", ex);
            }
        }

        static int recvmmsg(final MemorySegment state, final int fd, final MemorySegment headers, final int count,
            final int flags)
        {
            try
            {
                return (int)RECVMMSG.invokeExact(state, fd, headers, count, flags, MemorySegment.NULL);
            }
            catch (final Throwable ex)
            {
                throw new IllegalStateException("recvmmsg", ex);
            }
        }

        static int sendmmsg(final MemorySegment state, final int fd, final MemorySegment headers, final int count)
        {
            try
            {
                return (int)SENDMMSG.invokeExact(state, fd, headers, count, 0);
            }
            catch (final Throwable ex)
            {
                throw new IllegalStateException("sendmmsg", ex);
            }
        }

        static void shutdown(final int fd, final int how)
        {
            try
            {
                final int ignored = (int)SHUTDOWN.invokeExact(fd, how);
            }
            catch (final Throwable ex)
            {
                throw new IllegalStateException("shutdown", ex);
            }
        }

        static void close(final int fd)
        {
            try
            {
                final int ignored = (int)CLOSE.invokeExact(fd);
            }
            catch (final Throwable ex)
            {
                throw new IllegalStateException("close", ex);
            }
        }
    }
}
