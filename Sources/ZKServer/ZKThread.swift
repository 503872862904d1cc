// Named OS threads for the pipeline stages (the names show in `top -H` and
// /proc/PID/task/*/comm, as Apache's do in jstack), and the clocks they use.
import Foundation
#if canImport(Glibc)
import Glibc
#endif

public enum ZKThread {
    /// Starts `body` on a new thread named `name` (at most 15 bytes on Linux).
    @discardableResult
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) -> Thread {
        let short = String(name.prefix(15))
        let t = Thread {
            setCurrentThreadName(short)
            body()
        }
        t.start()
        return t
    }
}

/// Names the calling OS thread. Glibc's pthread_setname_np is not visible
/// to Swift, so write the name where it lands: /proc/thread-self/comm.
func setCurrentThreadName(_ name: String) {
    #if os(Linux)
    let fd = open("/proc/thread-self/comm", O_WRONLY)
    guard fd >= 0 else { return }
    _ = Array(name.utf8).withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
    close(fd)
    #else
    Thread.current.name = name
    #endif
}

public enum Clock {
    /// Monotonic milliseconds (Java's System.nanoTime()/1e6 on Linux).
    public static func monotonicMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }

    /// Wall clock milliseconds since the epoch (txn times, ctime/mtime).
    public static func wallMillis() -> Int64 {
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) * 1000 + Int64(ts.tv_nsec) / 1_000_000
    }
}

/// A FIFO handed between two pipeline threads. Consumers drain everything
/// queued at once so a burst costs one wake-up, not one per request.
public final class RequestQueue<T>: @unchecked Sendable {
    // guarded by `cond`
    private let cond = NSCondition()
    private var items: [T] = []
    private var closed = false

    public init() {}

    public func put(_ item: T) {
        cond.lock()
        items.append(item)
        cond.signal()
        cond.unlock()
    }

    /// Waits until something is queued (or the queue is closed) and takes all of it.
    /// Returns nil once closed and empty.
    public func takeAll(timeoutMs: Int? = nil) -> [T]? {
        cond.lock()
        defer { cond.unlock() }
        let deadline = timeoutMs.map { Date(timeIntervalSinceNow: Double($0) / 1000) }
        while items.isEmpty && !closed {
            if let deadline {
                if !cond.wait(until: deadline) { return [] }
            } else {
                cond.wait()
            }
        }
        if items.isEmpty && closed { return nil }
        let out = items
        items.removeAll(keepingCapacity: true)
        return out
    }

    public func close() {
        cond.lock()
        closed = true
        cond.broadcast()
        cond.unlock()
    }

    public var count: Int {
        cond.lock(); defer { cond.unlock() }
        return items.count
    }
}
