import Testing
import DSMServeCore

/// Issue 13, finding 17b: a listener on a runtime's port that is not the runtime's is found.
@Suite struct ListenerOwnershipTests {
    // Real /proc/net/tcp lines: 127.0.0.1:47601 (0xB9F1) listening, 0.0.0.0:22 listening, one established connection.
    let tcp = """
      sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
       0: 0100007F:B9F1 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 4242 1 0000000000000000 100 0 0 10 0
       1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1717 1 0000000000000000 100 0 0 10 0
       2: 0100007F:B9F1 0100007F:D2C4 01 00000000:00000000 00:00000000 00000000  1000        0 9999 1 0000000000000000 20 4 30 10 -1
    """
    let tcp6 = """
      sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
       0: 00000000000000000000000000000000:1F90 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 5555 1 0000000000000000 100 0 0 10 0
       1: 00000000000000000000000001000000:B9F1 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000  1001        0 6666 1 0000000000000000 100 0 0 10 0
    """

    @Test func parsesListeningSocketsOnly() {
        let l = ListenerOwnership.listeners(procNetTCP: tcp)
        #expect(l == [.init(address: "0100007F", port: 47601, inode: 4242), .init(address: "00000000", port: 22, inode: 1717)])
        #expect(ListenerOwnership.listeners(procNetTCP: tcp6).map(\.port) == [8080, 47601])
    }

    @Test func judgesThePort() {
        let all = ListenerOwnership.listeners(procNetTCP: tcp) + ListenerOwnership.listeners(procNetTCP: tcp6)
        #expect(ListenerOwnership.verdict(port: 47601, listeners: all, runtimeSockets: [4242, 7]) == .runtime)
        #expect(ListenerOwnership.verdict(port: 47601, listeners: all, runtimeSockets: [7]) == .foreign([4242]))
        #expect(ListenerOwnership.verdict(port: 47602, listeners: all, runtimeSockets: [4242]) == .nobody)
        // The IPv6 wildcard takes IPv4 loopback connections too (dual stack); ::1 does not.
        #expect(ListenerOwnership.verdict(port: 8080, listeners: all, runtimeSockets: []) == .foreign([5555]))
        #expect(ListenerOwnership.catchesLoopback("00000000000000000000000001000000") == false)
    }

    @Test func readsProcLinksAndStat() {
        #expect(ListenerOwnership.socketInode(link: "socket:[123456]") == 123456)
        #expect(ListenerOwnership.socketInode(link: "pipe:[1]") == nil && ListenerOwnership.socketInode(link: "/dev/null") == nil)
        #expect(ListenerOwnership.processGroup(stat: "2211 (llama-server) S 2200 2211 2200 0 -1 4194560 ...") == 2211)
        #expect(ListenerOwnership.processGroup(stat: "77 (a) b (c)) R 1 70 70 0") == 70)
        #expect(ListenerOwnership.processGroup(stat: "garbage") == nil)
    }
}
