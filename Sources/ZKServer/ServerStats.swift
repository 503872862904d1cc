// Server-wide counters reported by srvr/stat/mntr: packets in and out and
// request latency (ServerStats in Apache ZooKeeper).
// NIOLockedValueBox (a pthread mutex) rather than Synchronization.Mutex, so
// ThreadSanitizer runs can see the locking.
import NIOConcurrencyHelpers

public final class ServerStats: Sendable {
    private struct Counters {
        var packetsReceived: Int64 = 0
        var packetsSent: Int64 = 0
        var minLatency: Int64 = Int64.max
        var maxLatency: Int64 = 0
        var totalLatency: Int64 = 0
        var count: Int64 = 0
        /// Reply sizes without the length prefix; -1 until the first reply.
        var lastResponseSize = -1
        var minResponseSize = -1
        var maxResponseSize = -1
    }
    private let counters = NIOLockedValueBox(Counters())

    public init() {}

    public func packetReceived() { counters.withLockedValue { $0.packetsReceived += 1 } }
    public func packetSent(bytes: Int) {
        counters.withLockedValue {
            $0.packetsSent += 1
            $0.lastResponseSize = bytes
            $0.minResponseSize = $0.minResponseSize < 0 ? bytes : min($0.minResponseSize, bytes)
            $0.maxResponseSize = max($0.maxResponseSize, bytes)
        }
    }

    /// Apache's client_response_stats: last, min and max reply size.
    public var responseSizes: (last: Int, min: Int, max: Int) {
        counters.withLockedValue { ($0.lastResponseSize, $0.minResponseSize, $0.maxResponseSize) }
    }

    public func updateLatency(_ ms: Int64) {
        counters.withLockedValue {
            $0.totalLatency += ms
            $0.count += 1
            $0.minLatency = min($0.minLatency, ms)
            $0.maxLatency = max($0.maxLatency, ms)
        }
    }

    public var packetsReceived: Int64 { counters.withLockedValue { $0.packetsReceived } }
    public var packetsSent: Int64 { counters.withLockedValue { $0.packetsSent } }
    public var minLatency: Int64 { counters.withLockedValue { $0.minLatency == Int64.max ? 0 : $0.minLatency } }
    public var maxLatency: Int64 { counters.withLockedValue { $0.maxLatency } }
    /// Rounded to 4 decimals, as Apache prints it.
    public var avgLatency: Double {
        counters.withLockedValue { $0.count == 0 ? 0 : (Double($0.totalLatency) / Double($0.count) * 10000).rounded() / 10000 }
    }

    public func reset() {
        counters.withLockedValue { $0 = Counters() }
    }
}
