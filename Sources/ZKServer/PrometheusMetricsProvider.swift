// The /metrics endpoint of Apache's PrometheusMetricsProvider
// (metricsProvider.className=...PrometheusMetricsProvider, httpHost,
// httpPort): the server's gauges under Apache's names (znode_count,
// watch_count, avg_latency, ...: mntr's numeric keys without "zk_"), in the
// Prometheus text format, through swift-prometheus. Values are read at each
// scrape from whatever server the client port serves now.
import Logging
import NIOConcurrencyHelpers
import NIOHTTP1
import Prometheus

public final class PrometheusMetricsProvider: Sendable {
    /// The gauges Apache 3.8's ZooKeeperServer and LeaderZooKeeperServer
    /// register (registerMetrics), which its provider exports by these names.
    public static let apacheGauges: Set<String> = [
        "avg_latency", "max_latency", "min_latency", "packets_received", "packets_sent", "num_alive_connections",
        "outstanding_requests", "uptime", "znode_count", "watch_count", "ephemerals_count", "approximate_data_size",
        "global_sessions", "local_sessions", "open_file_descriptor_count", "max_file_descriptor_count",
        "connection_drop_probability", "last_client_response_size", "max_client_response_size",
        "min_client_response_size", "outstanding_tls_handshake", "auth_failed_count", "non_mtls_remote_conn_count",
        "non_mtls_local_conn_count",
        "learners", "synced_followers", "synced_non_voting_followers", "synced_observers", "pending_syncs",
        "leader_uptime", "last_proposal_size", "max_proposal_size", "min_proposal_size",
    ]

    private let registry = PrometheusCollectorRegistry()
    private let gauges = NIOLockedValueBox<[String: Gauge]>([:])
    private let endpoint: NIOLockedValueBox<HTTPEndpoint?> = NIOLockedValueBox(nil)
    private let factory: NIOServerCnxnFactory
    private let host: String
    private let port: Int

    public init(config: ServerConfig, factory: NIOServerCnxnFactory) {
        self.factory = factory
        host = config.metricsHTTPHost
        port = config.metricsHTTPPort
    }

    public func start() throws {
        let e = HTTPEndpoint(host: host, port: port) { [self] h in
            let path = h.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? h.uri
            guard path == "/metrics" else { return (.notFound, "text/html;charset=utf-8", HTTPEndpoint.errorPage(404, "Not Found")) }
            return (.ok, "text/plain; version=0.0.4; charset=utf-8", scrape())
        }
        try e.start()
        endpoint.withLockedValue { $0 = e }
        Logger(label: "zkswiftd.PrometheusMetricsProvider").info("Started /metrics HTTP endpoint at host: \(host), port: \(port)")
    }

    public var localPort: Int? { endpoint.withLockedValue { $0 }?.localPort }

    public func shutdown() { endpoint.withLockedValue { $0 }?.shutdown() }

    /// The gauges' values now, as Prometheus text.
    public func scrape() -> String {
        if let zks = factory.zooKeeperServer, zks.isRunning {
            for (key, value) in FourLetterWords.monitorValues(zks, factory) {
                let name = String(key.dropFirst(3))
                // mntr also lists ServerMetrics counters; Apache exports those as counters, not gauges.
                guard Self.apacheGauges.contains(name) else { continue }
                let number: Double
                switch value {
                case .int(let i): number = Double(i)
                case .double(let d): number = d
                default: continue   // version and state are strings, which Apache leaves out too
                }
                gauge(name).set(number)
            }
        }
        return registry.emitToString()
    }

    private func gauge(_ name: String) -> Gauge {
        gauges.withLockedValue { g in
            if let existing = g[name] { return existing }
            // Apache builds each gauge with its name as its help text.
            let made = registry.makeGauge(name: name, help: name)
            g[name] = made
            return made
        }
    }
}
