// QuorumCnxManager over real loopback sockets: the connection rules of
// quorum-protocol.md §2, bad input from raw sockets posing as peers, the
// resend of the last message, and a clean halt. Everything waits on
// deadlines, never on fixed sleeps, so a loaded machine only makes it slower.
import Foundation
import NIOCore
import Testing
import ZKJute
@testable import ZKQuorum
#if canImport(Glibc)
import Glibc
#endif

private let loopback = "127.0.0.1"

private func view(_ ports: [Int64: Int]) -> [Int64: QuorumServer] {
    // Quorum ports are never dialed by the connection manager; any value will do.
    Dictionary(uniqueKeysWithValues: ports.map { sid, port in
        (sid, QuorumServer(id: sid, host: loopback, quorumPort: 1, electionPort: port))
    })
}

/// Manager 1 started on a free port, and a bare listener standing in for peer 9.
private func managerWithRawPeer() throws -> (port: Int, raw: BlockingListener, m: QuorumCnxManager) {
    let port = try freePorts(1)[0]
    let raw = try BlockingListener(host: loopback, port: 0)
    let m = QuorumCnxManager(myid: 1, view: view([1: port, 9: raw.port]), listenOnAllIPs: false)
    m.start()
    return (port, raw, m)
}

/// The first non-nil value of `probe` that stays the same for `stableMs`.
private func waitStable<T: Equatable>(timeoutMs: Int = 10_000, stableMs: Int = 300, _ probe: () -> T?) -> T? {
    let deadline = Date(timeIntervalSinceNow: Double(timeoutMs) / 1000)
    var candidate: T?
    var since = Date()
    while Date() < deadline {
        let now = probe()
        if now == nil || now != candidate {
            candidate = now
            since = Date()
        } else if Date().timeIntervalSince(since) * 1000 >= Double(stableMs) {
            return candidate
        }
        usleep(5_000)
    }
    return nil
}

private func bytes(_ s: String) -> ByteBuffer { ByteBuffer(string: s) }

private func text(_ b: ByteBuffer) -> String { String(buffer: b) }

/// A raw socket that dials `port` and introduces itself as `sid`.
private func dialAsPeer(port: Int, sid: Int64, address: String = "127.0.0.1:1") throws -> BlockingSocket {
    let s = try BlockingSocket.connect(host: loopback, port: port, timeoutMs: 5000)
    var b = ByteBuffer()
    InitialMessage(sid: sid, addresses: [address]).write(to: &b)
    try s.writeAll(b)
    try s.setReadTimeout(ms: 5000)
    return s
}

private func dialRaw(port: Int, _ payload: ByteBuffer) throws -> BlockingSocket {
    let s = try BlockingSocket.connect(host: loopback, port: port, timeoutMs: 5000)
    try s.writeAll(payload)
    try s.setReadTimeout(ms: 5000)
    return s
}

private func writeFrame(_ s: BlockingSocket, _ t: String) throws {
    var b = ByteBuffer()
    b.writeInteger(Int32(t.utf8.count))
    b.writeString(t)
    try s.writeAll(b)
}

private func readFrame(_ s: BlockingSocket) throws -> String {
    let header = try s.readFully(4)
    let len = header.getInteger(at: 0, as: Int32.self)!
    return text(try s.readFully(Int(len)))
}

/// True when the other end closed the connection (EOF, or a reset when it
/// closed with our bytes unread).
private func isClosedByPeer(_ s: BlockingSocket) -> Bool {
    do {
        _ = try s.readFully(1)
        return false
    } catch {
        return error.code == .endOfStream || error.code == .system(ECONNRESET)
    }
}

/// Drains `m`'s receive queue into `into` for up to `timeoutMs`.
private func collect(_ m: QuorumCnxManager, into: inout [(Int64, String)], until cond: ([(Int64, String)]) -> Bool,
                     timeoutMs: Int = 10_000, also: () -> Void = {}) -> Bool {
    let deadline = Date(timeIntervalSinceNow: Double(timeoutMs) / 1000)
    var lastNudge = Date()
    while Date() < deadline {
        if cond(into) { return true }
        if let (sid, msg) = m.pollRecvQueue(timeoutMs: 20) { into.append((sid, text(msg))) }
        if Date().timeIntervalSince(lastNudge) > 0.5 {
            also()
            lastNudge = Date()
        }
    }
    return cond(into)
}

@Suite(.serialized, .timeLimit(.minutes(1)))
struct QuorumCnxManagerTests {
    @Test func threeManagersTalkInEveryDirectionOverOneConnectionPerPair() throws {
        let ports = try freePorts(3)
        let v = view([1: ports[0], 2: ports[1], 3: ports[2]])
        let ms = (1...3).map { QuorumCnxManager(myid: Int64($0), view: v, listenOnAllIPs: false, cnxTimeoutMs: 2000) }
        defer { ms.forEach { $0.halt() } }
        ms.forEach { $0.start() }
        #expect(waitUntil { ms.allSatisfy(\.isListening) })

        func round(_ tag: String) {
            for from in 1...3 {
                for to in 1...3 { ms[from - 1].toSend(sid: Int64(to), bytes("\(tag) \(from)->\(to)")) }
            }
            for to in 1...3 {
                var got: [(Int64, String)] = []
                let expected = Set((1...3).map { "\(tag) \($0)->\(to)" })
                let ok = collect(ms[to - 1], into: &got, until: { g in
                    expected.isSubset(of: Set(g.map(\.1)))
                }, also: { ms.forEach { $0.connectAll() } })
                #expect(ok, "server \(to) got \(got)")
                for (sid, msg) in got where expected.contains(msg) {
                    #expect(msg.hasPrefix("\(tag) \(sid)->"), "message \(msg) attributed to \(sid)")
                }
            }
        }
        round("a")

        // The connection that survives is the one the larger sid dialed.
        // Dials and handshakes still in flight may replace connections for
        // a moment (as in Apache), so wait for a state that holds.
        let c = try #require(waitStable {
            ms.allSatisfy { $0.connectionCount == 2 && $0.threads.count == 5 } ? ms.map { $0.connections() } : nil
        })
        #expect(c[0][2]?.dialedByUs == false && c[0][3]?.dialedByUs == false)
        #expect(c[1][1]?.dialedByUs == true && c[1][3]?.dialedByUs == false)
        #expect(c[2][1]?.dialedByUs == true && c[2][2]?.dialedByUs == true)
        // Dialed connections go to the peer's election port.
        #expect(c[2][1]?.remoteAddress == "127.0.0.1:\(ports[0])")
        #expect(c[1][1]?.remoteAddress == "127.0.0.1:\(ports[0])")

        // Once settled, more traffic does not open more connections.
        round("b")
        #expect(ms.map { $0.connections() }.map { $0.mapValues(\.serial) } == c.map { $0.mapValues(\.serial) })
        #expect(ms.allSatisfy { $0.haveDelivered() })
    }

    @Test func smallerSidIsDroppedAndDialedBackAtItsAdvertisedAddress() throws {
        let ports = try freePorts(2)
        let raw = try BlockingListener(host: loopback, port: 0)
        defer { raw.close() }
        // The view's address for sid 2 is dead: the dial-back must use the initial message's.
        let m = QuorumCnxManager(myid: 5, view: view([5: ports[0], 2: ports[1]]), listenOnAllIPs: false)
        defer { m.halt() }
        m.start()
        #expect(waitUntil { m.isListening })

        let dialer = try dialAsPeer(port: ports[0], sid: 2, address: "127.0.0.1:\(raw.port)")
        defer { dialer.close() }
        #expect(isClosedByPeer(dialer))

        let back = try raw.accept(timeoutMs: 5000)
        defer { back.close() }
        try back.setReadTimeout(ms: 5000)
        let addr = "127.0.0.1:\(ports[0])"
        var expected = ByteBuffer()
        expected.writeInteger(Int64(-65536))
        expected.writeInteger(Int64(5))
        expected.writeInteger(Int32(addr.utf8.count))
        expected.writeString(addr)
        #expect(try back.readFully(expected.readableBytes) == expected)

        #expect(waitUntil { m.connections()[2]?.dialedByUs == true })
        try writeFrame(back, "vote from 2")
        let got = m.pollRecvQueue(timeoutMs: 5000)
        #expect(got?.sid == 2 && got.map { text($0.message) } == "vote from 2")
        m.toSend(sid: 2, bytes("vote to 2"))
        #expect(try readFrame(back) == "vote to 2")
    }

    @Test func dialerDropsItsConnectionToALargerSidAndSendsOnlyTheNewestMessage() throws {
        let (port, raw, m) = try managerWithRawPeer()
        defer {
            m.halt()
            raw.close()
        }
        #expect(waitUntil { m.isListening })

        m.toSend(sid: 9, bytes("old"))
        m.toSend(sid: 9, bytes("new"))
        // m dials 9 (once: the second toSend finds the dial in progress) and
        // hangs up after its initial message because 9 > 1.
        let first = try raw.accept(timeoutMs: 5000)
        defer { first.close() }
        try first.setReadTimeout(ms: 5000)
        var hello = try first.readFully(8 + 8 + 4)
        #expect(hello.readInteger(as: Int64.self) == -65536)
        #expect(hello.readInteger(as: Int64.self) == 1)
        _ = try first.readFully(Int(hello.readInteger(as: Int32.self)!))
        #expect(isClosedByPeer(first))
        #expect(!m.haveDelivered())

        // The peer dials back: only the newest message of the capacity-1 queue goes out.
        let d = try dialAsPeer(port: port, sid: 9, address: "127.0.0.1:\(raw.port)")
        defer { d.close() }
        #expect(try readFrame(d) == "new")
        #expect(waitUntil { m.haveDelivered() })
        try d.setReadTimeout(ms: 300)
        #expect(throws: SocketError.self) { _ = try d.readFully(1) }
    }

    @Test func lastMessageIsResentOnEveryNewConnection() throws {
        let (port, raw, m) = try managerWithRawPeer()
        defer {
            m.halt()
            raw.close()
        }
        #expect(waitUntil { m.isListening })

        let d1 = try dialAsPeer(port: port, sid: 9)
        defer { d1.close() }
        #expect(waitUntil { m.connectedToPeer(9) })
        m.toSend(sid: 9, bytes("vote1"))
        #expect(try readFrame(d1) == "vote1")
        d1.close()
        #expect(waitUntil { !m.connectedToPeer(9) })

        // Nothing new queued: the new SendWorker repeats the last message.
        let d2 = try dialAsPeer(port: port, sid: 9)
        defer { d2.close() }
        #expect(try readFrame(d2) == "vote1")
        m.toSend(sid: 9, bytes("vote2"))
        #expect(try readFrame(d2) == "vote2")

        // A second connection from the same peer replaces the first: one worker pair per peer.
        #expect(waitUntil { m.connectionCount == 1 })
        let serial = m.connections()[9]?.serial
        let d3 = try dialAsPeer(port: port, sid: 9)
        defer { d3.close() }
        #expect(try readFrame(d3) == "vote2")
        #expect(isClosedByPeer(d2))
        #expect(m.connectionCount == 1)
        #expect(m.connections()[9]?.serial != serial)
        #expect(waitUntil { m.threads.count == 3 }, "listener and one SendWorker/RecvWorker pair")
    }

    @Test func badInputClosesOnlyThatConnection() throws {
        let ports = try freePorts(2)
        let v = view([1: ports[0], 2: ports[1]])
        let a = QuorumCnxManager(myid: 1, view: v, listenOnAllIPs: false)
        let b = QuorumCnxManager(myid: 2, view: v, listenOnAllIPs: false)
        defer { a.halt(); b.halt() }
        a.start(); b.start()
        #expect(waitUntil { a.isListening && b.isListening })
        a.toSend(sid: 2, bytes("hello"))
        let first = b.pollRecvQueue(timeoutMs: 10_000)
        #expect(first?.sid == 1 && first.map { text($0.message) } == "hello")
        #expect(waitUntil { a.connectedToPeer(2) })
        let serial = a.connections()[2]?.serial

        // Frames with a length outside 1...512 KiB, from a peer a keeps (9 > 1).
        for length in [Int32(512 * 1024 + 1), 0, -1, .max] {
            let s = try dialAsPeer(port: ports[0], sid: 9)
            defer { s.close() }
            #expect(waitUntil { a.connectedToPeer(9) })
            var frame = ByteBuffer()
            frame.writeInteger(length)
            frame.writeBytes([1, 2, 3, 4])
            try s.writeAll(frame)
            #expect(isClosedByPeer(s), "length \(length)")
            #expect(waitUntil { !a.connectedToPeer(9) })
        }
        // The largest legal frame goes through.
        do {
            let s = try dialAsPeer(port: ports[0], sid: 9)
            defer { s.close() }
            try writeFrame(s, String(repeating: "x", count: 512 * 1024))
            let got = a.pollRecvQueue(timeoutMs: 10_000)
            #expect(got?.sid == 9 && got?.message.readableBytes == 512 * 1024)
        }

        // Bad initial messages; the last is an HTTP request, whose first 8
        // bytes read as a legacy sid and whose next 4 as a huge frame length.
        var badVersion = ByteBuffer(); badVersion.writeInteger(Int64(-5)); badVersion.writeInteger(Int64(9))
        var longAddress = ByteBuffer(); longAddress.writeInteger(Int64(-65536)); longAddress.writeInteger(Int64(9))
        longAddress.writeInteger(Int32(5000))
        var noPort = ByteBuffer(); noPort.writeInteger(Int64(-65536)); noPort.writeInteger(Int64(9))
        noPort.writeInteger(Int32(4)); noPort.writeString("host")
        var badPort = ByteBuffer(); badPort.writeInteger(Int64(-65536)); badPort.writeInteger(Int64(9))
        badPort.writeInteger(Int32(11)); badPort.writeString("host:999999")
        var ownSid = ByteBuffer(); InitialMessage(sid: 1, addresses: ["127.0.0.1:1"]).write(to: &ownSid)
        let http = bytes("GET / HTTP/1.1\r\nHost: example\r\n\r\n")
        for payload in [badVersion, longAddress, noPort, badPort, ownSid, http] {
            let s = try dialRaw(port: ports[0], payload)
            defer { s.close() }
            #expect(isClosedByPeer(s), "payload \(payload)")
        }
        // A dialer that hangs up in the middle of its initial message.
        do {
            let s = try dialRaw(port: ports[0], bytes("\u{ff}\u{ff}\u{ff}"))
            s.close()
        }

        // The good connection was never touched and still carries messages both ways.
        #expect(waitUntil { a.connectionCount == 1 })
        #expect(a.connections()[2]?.serial == serial)
        a.toSend(sid: 2, bytes("still here"))
        b.toSend(sid: 1, bytes("me too"))
        #expect(b.pollRecvQueue(timeoutMs: 10_000).map { text($0.message) } == "still here")
        var got: [(Int64, String)] = []
        #expect(collect(a, into: &got, until: { $0.contains { $0 == (2, "me too") } }))
        #expect(a.connections()[2]?.serial == serial)
    }

    @Test func messagesToSelfAndTheReceiveQueueDropsTheOldest() throws {
        let port = try freePorts(1)[0]
        let m = QuorumCnxManager(myid: 1, view: view([1: port]), listenOnAllIPs: false)
        defer { m.halt() }
        for i in 0..<150 { m.toSend(sid: 1, bytes("\(i)")) }
        var got: [String] = []
        while let (sid, msg) = m.pollRecvQueue(timeoutMs: 0) {
            #expect(sid == 1)
            got.append(text(msg))
        }
        #expect(got == (50..<150).map { "\($0)" })
        #expect(m.connectionCount == 0)
        #expect(m.pollRecvQueue(timeoutMs: 10) == nil)
    }

    @Test func haltIsPromptClosesEverythingAndFreesThePort() throws {
        let ports = try freePorts(2)
        // Sid 3 sits behind an address that never answers, so a dial is in progress at halt.
        var v = view([1: ports[0], 2: ports[1]])
        v[3] = QuorumServer(id: 3, host: "10.255.255.1", quorumPort: 1, electionPort: 3888)
        let a = QuorumCnxManager(myid: 1, view: v, listenOnAllIPs: false, cnxTimeoutMs: 5000)
        let b = QuorumCnxManager(myid: 2, view: v, listenOnAllIPs: false)
        defer { a.halt(); b.halt() }
        a.start(); b.start()
        #expect(waitUntil { a.isListening && b.isListening })
        a.toSend(sid: 2, bytes("x"))
        #expect(b.pollRecvQueue(timeoutMs: 10_000) != nil)
        #expect(waitUntil { a.connectedToPeer(2) && b.connectedToPeer(1) })
        a.toSend(sid: 3, bytes("y"))
        // A peer that connects and says nothing holds a handshake thread.
        let silent = try BlockingSocket.connect(host: loopback, port: ports[0], timeoutMs: 5000)
        defer { silent.close() }
        try silent.setReadTimeout(ms: 5000)

        let start = Date()
        a.halt()
        #expect(Date().timeIntervalSince(start) < 2.5)
        #expect(a.threads.count == 0)
        #expect(a.connectionCount == 0 && !a.isListening)
        #expect(isClosedByPeer(silent))
        #expect(waitUntil { !b.connectedToPeer(1) })
        let again = try BlockingListener(host: loopback, port: ports[0])
        again.close()
        a.toSend(sid: 2, bytes("after halt"))
        #expect(a.connectionCount == 0)
        a.halt()

        b.halt()
        #expect(b.threads.count == 0)
    }

    @Test func bindFailureIsReportedOnce() throws {
        let taken = try BlockingListener(host: loopback, port: 0)
        defer { taken.close() }
        let reported = ReportBox()
        let m = QuorumCnxManager(myid: 1, view: view([1: taken.port]), listenOnAllIPs: false, portBindRetry: 2,
                                 bindErrorHandler: { reported.add($0) })
        defer { m.halt() }
        m.start()
        #expect(waitUntil { reported.errors.count == 1 })
        #expect(reported.errors.first?.description.contains("Address already in use") == true)
        #expect(waitUntil { m.threads.count == 0 })
        #expect(reported.errors.count == 1)
    }

    @Test func circularQueueDropsOldestAndWakes() {
        let q = CircularBlockingQueue<Int>(capacity: 1)
        #expect(q.offer(1) == false)
        #expect(q.offer(2) == true)
        #expect(q.poll(timeoutMs: 0) == 2)
        #expect(q.poll(timeoutMs: 10) == nil)
        let start = Date()
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.05) { q.wakeAll() }
        #expect(q.poll(timeoutMs: 5000) == nil)
        #expect(Date().timeIntervalSince(start) < 4)
    }

    @Test func blockingSocketBasics() throws {
        // Refused, not trapped.
        let dead = try freePorts(1)[0]
        #expect(throws: SocketError.self) { _ = try BlockingSocket.connect(host: loopback, port: dead, timeoutMs: 2000) }

        let l = try BlockingListener(host: nil, port: 0)
        defer { l.close() }
        let c = try BlockingSocket.connect(host: "localhost", port: l.port, timeoutMs: 2000)
        let s = try l.accept(timeoutMs: 5000)
        try c.writeAll(bytes("abc"))
        #expect(text(try s.readFully(3)) == "abc")
        try s.setReadTimeout(ms: 50)
        #expect { _ = try s.readFully(1) } throws: { ($0 as? SocketError)?.code == .timedOut }

        // close() from another thread wakes a blocked reader; closing twice is fine.
        try s.setReadTimeout(ms: 0)
        let done = LockedBox(false)
        let reader = Thread {
            _ = try? s.readFully(1)
            done.set(true)
        }
        reader.start()
        usleep(20_000)
        s.close()
        s.close()
        #expect(waitUntil(timeoutMs: 5000) { done.get() })
        #expect(isClosedByPeer(c))
        c.close()
        #expect(throws: SocketError.self) { try c.writeAll(bytes("x")) }
    }

    @Test func blockingSocketIPv6() throws {
        guard let l = try? BlockingListener(host: "::1", port: 0) else { return }  // no IPv6 here
        defer { l.close() }
        let c = try BlockingSocket.connect(host: "::1", port: l.port, timeoutMs: 2000)
        defer { c.close() }
        let s = try l.accept(timeoutMs: 5000)
        defer { s.close() }
        #expect(s.remoteAddress.hasPrefix("[::1]:"))
        try c.writeAll(bytes("v6"))
        #expect(text(try s.readFully(2)) == "v6")
    }

    @Test func wildcardAddresses() {
        #expect(isWildcardAddress("0.0.0.0"))
        #expect(isWildcardAddress("::"))
        #expect(!isWildcardAddress("127.0.0.1"))
        #expect(!isWildcardAddress("localhost"))
    }
}

private final class LockedBox<T>: @unchecked Sendable {
    // `lock` guards value.
    private let lock = NSLock()
    private var value: T
    init(_ v: T) { value = v }
    func set(_ v: T) { lock.lock(); value = v; lock.unlock() }
    func get() -> T { lock.lock(); defer { lock.unlock() }; return value }
}

private final class ReportBox: @unchecked Sendable {
    // `lock` guards list.
    private let lock = NSLock()
    private var list: [SocketError] = []
    func add(_ e: SocketError) { lock.lock(); list.append(e); lock.unlock() }
    var errors: [SocketError] { lock.lock(); defer { lock.unlock() }; return list }
}
