// An ensemble member's part of the AdminServer's answers (leader, voting_view,
// zabstate, observers), from its configuration and its current leader.
import ZKServer

extension QuorumPeerConfig {
    func adminInfo(leader: QuorumServer?, isLeader: Bool, observers: [(sid: Int64, address: String)]) -> QuorumAdminInfo {
        let members = view.members.values.sorted { $0.id < $1.id }.map { m in
            QuorumAdminInfo.Member(sid: m.id, quorumAddress: "\(m.host):\(m.quorumPort)",
                                   electionAddress: "\(m.host):\(m.electionPort)",
                                   clientAddress: m.clientPort.map { "\(m.clientHost ?? "0.0.0.0"):\($0)" } ?? "",
                                   observer: m.type == .observer)
        }
        return QuorumAdminInfo(myid: myid, isLeader: isLeader, leaderId: leader?.id ?? -1, leaderHost: leader?.host ?? "",
                               members: members, observers: observers)
    }
}
