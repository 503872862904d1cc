// The default quorum rule (flexible.QuorumMaj): a set of voting members is a
// quorum when it holds more than half of them. Also the configuration text
// that rides on election notifications and NEWLEADER.

public struct QuorumMaj: Equatable, Sendable {
    public let members: [Int64: QuorumServer]
    public let version: Int64

    public init(members: [QuorumServer], version: Int64 = 0) {
        self.members = Dictionary(members.map { ($0.id, $0) }, uniquingKeysWith: { a, _ in a })
        self.version = version
    }

    public var votingMembers: Set<Int64> { Set(members.values.filter { $0.type == .participant }.map(\.id)) }
    public var observingMembers: Set<Int64> { Set(members.values.filter { $0.type == .observer }.map(\.id)) }

    public func isVoter(_ sid: Int64) -> Bool { members[sid]?.type == .participant }

    /// Only voters count; anything else in `acks` is ignored (SyncedLearnerTracker).
    public func containsQuorum(_ acks: Set<Int64>) -> Bool {
        let voters = votingMembers
        return acks.intersection(voters).count > voters.count / 2
    }

    /// QuorumMaj.toString: members in ascending id (Java's HashMap order for
    /// small ids), then the version in hex, no trailing newline.
    public var configText: String {
        members.keys.sorted().map { "server.\($0)=\(members[$0]!.configText)\n" }.joined()
            + "version=\(String(version, radix: 16))"
    }
}
