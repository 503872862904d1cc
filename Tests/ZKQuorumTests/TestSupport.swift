// Helpers the ZKQuorum tests share: free loopback ports and polling with a deadline.
import Foundation
@testable import ZKQuorum
#if canImport(Glibc)
import Glibc
#endif

/// Distinct free ports: all bound at once so none is handed out twice.
func freePorts(_ n: Int) throws -> [Int] {
    let listeners = try (0..<n).map { _ in try BlockingListener(host: "127.0.0.1", port: 0) }
    defer { listeners.forEach { $0.close() } }
    return listeners.map(\.port)
}

func freePort() throws -> Int { try freePorts(1)[0] }

/// Polls `cond` until it holds or `timeoutMs` passes.
@discardableResult
func waitUntil(timeoutMs: Int = 10_000, _ cond: () -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: Double(timeoutMs) / 1000)
    while Date() < deadline {
        if cond() { return true }
        usleep(5_000)
    }
    return cond()
}
