// Sessions as a follower or observer sees them (LearnerSessionTracker, global
// sessions only): it hands out ids with its own server id on top, knows the
// committed sessions, and gathers the sessions its clients touched so the
// next PING reply can tell the leader, whose tracker alone expires sessions.
import NIOConcurrencyHelpers
import ZKServer

public final class LearnerSessionTracker: Sendable {
    private struct State {
        var global: [Int64: Int32] = [:]
        var touched: [Int64: Int32] = [:]
        var nextSessionId: Int64
    }
    private let state: NIOLockedValueBox<State>

    public init(serverId: Int64, sessions: [Int64: Int32] = [:]) {
        state = NIOLockedValueBox(State(global: sessions,
                                        nextSessionId: SessionTracker.initialSessionId(serverId: serverId, now: Clock.monotonicMillis())))
    }

    /// A new id for a connecting client; the session exists once its createSession commits.
    public func createSession() -> Int64 {
        state.withLockedValue { s in
            defer { s.nextSessionId += 1 }
            return s.nextSessionId
        }
    }

    /// A committed createSession (or one learned from the leader's snapshot).
    public func commitSession(_ id: Int64, timeout: Int32) {
        state.withLockedValue { s in
            s.global[id] = timeout
            s.touched[id] = timeout
        }
    }

    public func removeSession(_ id: Int64) {
        state.withLockedValue { s in
            s.global[id] = nil
            s.touched[id] = nil
        }
    }

    /// Client traffic keeps a session alive through the leader; unknown
    /// sessions are the leader's to refuse, so this always says yes.
    public func touchSession(_ id: Int64, timeout: Int32) -> Bool {
        state.withLockedValue { $0.touched[id] = timeout }
        return true
    }

    public func isGlobalSession(_ id: Int64) -> Bool { state.withLockedValue { $0.global[id] != nil } }

    /// The touches since the last call, for a PING reply (in id order, so replies are reproducible).
    public func snapshot() -> [(id: Int64, timeout: Int32)] {
        state.withLockedValue { s in
            defer { s.touched = [:] }
            return s.touched.keys.sorted().map { ($0, s.touched[$0]!) }
        }
    }

    public var sessions: [Int64: Int32] { state.withLockedValue { $0.global } }
}
