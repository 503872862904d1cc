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
        /// Reply sizes without the length prefix.
        var responseSizes = BufferStats()
    }
    private let counters = NIOLockedValueBox(Counters())

    public init() {}

    public func packetReceived() { counters.withLockedValue { $0.packetsReceived += 1 } }
    public func packetSent(bytes: Int) {
        counters.withLockedValue {
            $0.packetsSent += 1
            $0.responseSizes.record(bytes)
        }
    }

    /// Apache's client_response_stats: last, min and max reply size.
    public var responseSizes: BufferStats { counters.withLockedValue { $0.responseSizes } }

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

/// Last, smallest and largest of a series of sizes, -1 before the first
/// (Apache's BufferStats: reply sizes, and a leader's proposal sizes).
public struct BufferStats: Sendable {
    public private(set) var last = -1
    public private(set) var min = -1
    public private(set) var max = -1

    public init() {}

    public mutating func record(_ size: Int) {
        last = size
        min = min < 0 ? size : Swift.min(min, size)
        max = Swift.max(max, size)
    }
}
