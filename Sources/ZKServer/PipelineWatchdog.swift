// When to tell the service manager "still alive" (systemd's WATCHDOG=1). A
// timer alone would keep a wedged server running forever, so each keep-alive
// is earned: the probe sent down the request pipeline at the previous tick
// must have come out of its last stage. Pure logic; the daemon's notifier
// thread calls tick() every half watchdog period and does what it says.

public struct PipelineWatchdog: Sendable {
    public struct Decision: Equatable, Sendable {
        /// Send WATCHDOG=1 now.
        public var keepAlive: Bool
        /// Send a new probe with this number down the pipeline.
        public var probe: Int?
    }

    private var outstanding: (server: ObjectIdentifier, probe: Int)?
    private var lastProbe = 0

    public init() {}

    /// `server` is the one serving clients now (nil while an ensemble member
    /// looks for a leader or syncs: no pipeline runs, and waiting for peers is
    /// not a fault a restart would cure). `completed` is the highest probe
    /// number that has come out of the pipeline.
    public mutating func tick(server: ObjectIdentifier?, completed: Int) -> Decision {
        guard let server else {
            outstanding = nil
            return Decision(keepAlive: true, probe: nil)
        }
        // A probe sent to a server that has since been replaced never matters.
        if let o = outstanding, o.server == server, o.probe > completed {
            return Decision(keepAlive: false, probe: nil)
        }
        lastProbe += 1
        outstanding = (server, lastProbe)
        return Decision(keepAlive: true, probe: lastProbe)
    }
}
