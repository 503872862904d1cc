// The `zkswift` operator tool: inspect and check a data directory's
// transaction logs and snapshots, and purge old ones. Subcommands are thin:
// the work is in TxnLogTool, SnapshotTool and Purge, which tests call directly.
import ArgumentParser
import ZKPersistence

@main
struct ZKSwift: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "zkswift",
        abstract: "Inspect, verify and purge ZooKeeper 3.8 data directories (Apache's or zkswiftd's).",
        discussion: """
            Exit status: 0 = fine (a torn last record is reported but fine: it is what a \
            crash leaves and recovery cuts it off), 1 = corrupt data (or a file purge could \
            not remove), 2 = file missing or unreadable, 64 = bad usage.
            """,
        subcommands: [TxnLog.self, Snapshot.self, PurgeCommand.self])
}

/// Runs a tool function against stdout/stderr and turns its status into the exit code.
func exitWith(_ body: (Sink) -> Int32) throws {
    let sink = StdSink()
    let rc = body(sink)
    sink.flush()
    if rc != 0 { throw ExitCode(rc) }
}

struct RecordLimit: ParsableArguments {
    @Option(name: .customLong("jute-maxbuffer"),
            help: "The server's jute.maxbuffer; records longer than twice this plus 1 KiB are damage, as in recovery.")
    var juteMaxBuffer: Int = 0xfffff

    var maxRecordBytes: Int { juteMaxBuffer * 2 + 1024 }
}

struct TxnLog: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "txnlog", abstract: "Transaction log files (log.<zxid>).",
        subcommands: [Dump.self, Verify.self])

    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print one line per transaction, then \"N txns\".",
            discussion: "Line: TIME(ISO-8601 UTC) session 0x.. cxid 0x.. zxid 0x.. TYPE field=value...; "
                + "damage in the middle is reported on stderr with its offset (exit 1).")
        @Argument(help: "A log file.") var file: String
        @OptionGroup var limit: RecordLimit
        func run() throws { try exitWith { TxnLogTool.dump(file, maxRecordBytes: limit.maxRecordBytes, to: $0) } }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check the header and every record (checksum, length, end marker, decoding).",
            discussion: "Prints \"FILE: N txns, zxid 0x.. to 0x.., ok\" (or \"..., torn tail at offset N (reason)\"), "
                + "or \"FILE: corrupt record at offset N: reason\" with exit status 1.")
        @Argument(help: "A log file.") var file: String
        @OptionGroup var limit: RecordLimit
        func run() throws { try exitWith { TxnLogTool.verify(file, maxRecordBytes: limit.maxRecordBytes, to: $0) } }
    }
}

struct Snapshot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "snapshot", abstract: "Snapshot files (snapshot.<zxid>).",
        subcommands: [Dump.self, Verify.self])

    struct Dump: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print sessions, the ACL cache, one line per znode and a summary.")
        @Argument(help: "A snapshot file.") var file: String
        func run() throws { try exitWith { SnapshotTool.dump(file, to: $0) } }
    }

    struct Verify: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Check magic, layout, parent-before-child order and both Adler-32 seals.")
        @Argument(help: "A snapshot file.") var file: String
        func run() throws { try exitWith { SnapshotTool.verify(file, to: $0) } }
    }
}

struct PurgeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "purge",
        abstract: "Remove old snapshots and logs, keeping the newest N snapshots and the logs they need.",
        discussion: "Same rule as Apache's PurgeTxnLog / autopurge (disk-format.md §7).")

    @Argument(help: "The dataDir (holding version-2), or its version-2 directory.")
    var dataDir: String
    @Option(name: .customLong("log-dir"), help: "The dataLogDir, when logs live apart from snapshots.")
    var logDir: String?
    @Option(name: .short, help: "Snapshots to keep (at least 3).")
    var n: Int = PurgeTxnLog.minimumRetain
    @Flag(name: .customLong("dry-run"), help: "Only print what would be removed.")
    var dryRun = false

    func validate() throws {
        guard n >= PurgeTxnLog.minimumRetain else {
            throw ValidationError("-n must be at least \(PurgeTxnLog.minimumRetain), as Apache's PurgeTxnLog requires")
        }
    }

    func run() throws {
        try exitWith { Purge.run(dataDir: dataDir, logDir: logDir, retain: n, dryRun: dryRun, to: $0) }
    }
}
