// Tells the service manager how the daemon is doing, through libsystemd's
// sd_notify: READY=1 once clients are served, STATUS= on every change of
// role, WATCHDOG=1 only while the request pipeline is moving, STOPPING=1 at
// shutdown. Without NOTIFY_SOCKET (not started by systemd) sd_notify does
// nothing, so the daemon runs the same everywhere.
import CSystemd
import Foundation
import Logging
import NIOConcurrencyHelpers
import ZKServer

final class ServiceNotifier: Sendable {
    private struct State {
        var ready = false
        var status = ""
        var watchdog = PipelineWatchdog()
        var completedProbe = 0
        var stopping = false
    }
    private let state = NIOLockedValueBox(State())
    /// The server serving clients now, nil while there is none.
    private let servingServer: @Sendable () -> ZooKeeperServer?
    private let statusLine: @Sendable () -> String
    /// WATCHDOG_USEC, when the service manager asked for keep-alives.
    let watchdogMicros: UInt64?
    private let logger = Logger(label: "zkswiftd.ServiceNotifier")

    init(servingServer: @escaping @Sendable () -> ZooKeeperServer?, statusLine: @escaping @Sendable () -> String) {
        self.servingServer = servingServer
        self.statusLine = statusLine
        var usec: UInt64 = 0
        watchdogMicros = sd_watchdog_enabled(0, &usec) > 0 ? usec : nil
    }

    private func send(_ fields: String) {
        let rc = sd_notify(0, fields)
        if rc < 0 { logger.warning("sd_notify failed: \(String(cString: strerror(-rc)))") }
    }

    /// Called on each change of role; READY=1 goes with the first status that serves.
    func statusChanged(serving: Bool) {
        let line = statusLine()
        let fields: String? = state.withLockedValue { s in
            guard !s.stopping else { return nil }
            var f: [String] = []
            if serving && !s.ready {
                s.ready = true
                f.append("READY=1")
            }
            if line != s.status {
                s.status = line
                f.append("STATUS=\(line)")
            }
            return f.isEmpty ? nil : f.joined(separator: "\n")
        }
        if let fields { send(fields) }
    }

    /// Starts the `ServiceNotifier` thread: refreshes STATUS each second (a
    /// leader's follower count changes without a change of role) and, when
    /// asked for, earns each WATCHDOG=1 with a probe through the pipeline.
    func start() {
        let half = watchdogMicros.map { Double($0) / 2_000_000 }
        let period = min(1.0, half ?? 1.0)
        if let half { logger.info("Service watchdog every \(half)s, while the request pipeline makes progress") }
        ZKThread.start(name: "ServiceNotifier") { [self] in
            var nextKeepAlive = Date()
            while !state.withLockedValue({ $0.stopping }) {
                let serving = servingServer()
                statusChanged(serving: serving != nil)
                if half != nil, Date() >= nextKeepAlive {
                    watchdogTick(serving)
                    nextKeepAlive = Date(timeIntervalSinceNow: half!)
                }
                Thread.sleep(forTimeInterval: period)
            }
        }
    }

    private func watchdogTick(_ server: ZooKeeperServer?) {
        let decision = state.withLockedValue { s in
            s.watchdog.tick(server: server.map(ObjectIdentifier.init), completed: s.completedProbe)
        }
        if decision.keepAlive {
            send("WATCHDOG=1")
        } else {
            logger.warning("Request pipeline made no progress in the last watchdog period; withholding the keep-alive")
        }
        if let n = decision.probe, let server {
            server.probePipeline { [state] in state.withLockedValue { $0.completedProbe = max($0.completedProbe, n) } }
        }
    }

    /// STOPPING=1: the service manager waits for the exit and sends no more probes.
    func stopping() {
        state.withLockedValue { $0.stopping = true }
        send("STOPPING=1\nSTATUS=Stopping")
    }
}
