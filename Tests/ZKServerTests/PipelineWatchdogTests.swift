import Testing
@testable import ZKServer

@Suite struct PipelineWatchdogTests {
    final class Server {}
    typealias D = PipelineWatchdog.Decision

    @Test func keepAliveOnlyOnceTheLastProbeCameOut() {
        var w = PipelineWatchdog()
        let s = ObjectIdentifier(Server.self)
        #expect(w.tick(server: s, completed: 0) == D(keepAlive: true, probe: 1))
        #expect(w.tick(server: s, completed: 1) == D(keepAlive: true, probe: 2))
        // Probe 2 is stuck: no keep-alive, and no pile of probes behind it.
        #expect(w.tick(server: s, completed: 1) == D(keepAlive: false, probe: nil))
        #expect(w.tick(server: s, completed: 1) == D(keepAlive: false, probe: nil))
        #expect(w.tick(server: s, completed: 2) == D(keepAlive: true, probe: 3))
    }

    @Test func noServerMeansWaitingNotWedged() {
        var w = PipelineWatchdog()
        let s = ObjectIdentifier(Server.self)
        _ = w.tick(server: s, completed: 0)
        #expect(w.tick(server: nil, completed: 0) == D(keepAlive: true, probe: nil))
        #expect(w.tick(server: nil, completed: 0) == D(keepAlive: true, probe: nil))
    }

    @Test func aProbeLostWithItsServerIsForgotten() {
        var w = PipelineWatchdog()
        let old = ObjectIdentifier(Server.self), new = ObjectIdentifier(Int.self)
        _ = w.tick(server: old, completed: 0)   // probe 1 to the old role's server, never answered
        #expect(w.tick(server: new, completed: 0) == D(keepAlive: true, probe: 2))
        #expect(w.tick(server: new, completed: 2) == D(keepAlive: true, probe: 3))
    }
}
