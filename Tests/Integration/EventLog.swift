// Collects a client's event stream in the background so a test can wait for
// the next event that matches, with a timeout, and assert on exact order.
import ZKClient
import ZKJute

struct EventTimeout: Error, CustomStringConvertible {
    let description: String
}

actor EventLog {
    private var events: [WatchedEvent] = []
    private var cursor = 0

    /// Starts consuming `client.events`; every event is kept.
    static func recording(_ client: ZooKeeperClient) -> EventLog {
        let log = EventLog()
        let stream = client.events
        Task { for await e in stream { await log.append(e) } }
        return log
    }

    private func append(_ e: WatchedEvent) { events.append(e) }

    var all: [WatchedEvent] { events }

    /// The next event after the cursor that matches, skipping (and consuming)
    /// the ones before it that don't. Defaults to node events only.
    func next(timeout: Duration = .seconds(10),
              where matches: @Sendable (WatchedEvent) -> Bool = { $0.type != .none }) async throws -> WatchedEvent {
        let deadline = ContinuousClock.now + timeout
        while true {
            if let i = events[cursor...].firstIndex(where: matches) {
                cursor = i + 1
                return events[i]
            }
            if ContinuousClock.now >= deadline {
                throw EventTimeout(description: "no matching event within \(timeout); seen: \(events)")
            }
            try await Task.sleep(for: .milliseconds(5))
        }
    }

    /// The next `count` node events, in order.
    func nextNodeEvents(_ count: Int) async throws -> [WatchedEvent] {
        var out: [WatchedEvent] = []
        for _ in 0..<count { out.append(try await next()) }
        return out
    }

    func nextState(_ state: KeeperState, timeout: Duration = .seconds(15)) async throws -> WatchedEvent {
        try await next(timeout: timeout) { $0.type == .none && $0.state == state }
    }
}

func node(_ type: EventType, _ path: String) -> WatchedEvent {
    WatchedEvent(type: type, state: .syncConnected, path: path)
}

func bytes(_ s: String) -> [UInt8] { Array(s.utf8) }
