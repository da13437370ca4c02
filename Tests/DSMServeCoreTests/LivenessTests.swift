import Testing
import DSMServeCore

/// Issue 13, finding 7: a runtime that stops answering after it was ready is declared hung.
@Suite struct LivenessTests {
    @Test func consecutiveMissesMakeItHungAndAnAnswerForgivesThem() {
        var t = LivenessTracker(policy: LivenessPolicy(interval: 1, timeout: 1, failures: 3))
        #expect(t.record(ok: false) == .suspect(1))
        #expect(t.record(ok: false) == .suspect(2))
        #expect(t.record(ok: true) == .healthy)
        #expect(t.record(ok: false) == .suspect(1))
        #expect(t.record(ok: false) == .suspect(2))
        #expect(t.record(ok: false) == .hung)
    }

    @Test func defaultsAndBounds() {
        let p = LivenessPolicy()
        #expect(p.interval == 5 && p.timeout == 5 && p.failures == 3 && p.worstCaseDetection == 30 && p.problem == nil)
        #expect(LivenessPolicy(interval: 0).problem?.contains("--liveness-interval") == true)
        #expect(LivenessPolicy(timeout: -1).problem?.contains("--liveness-timeout") == true)
        #expect(LivenessPolicy(failures: 0).problem?.contains("--liveness-failures") == true)
        var once = LivenessTracker(policy: LivenessPolicy(failures: 1))
        #expect(once.record(ok: false) == .hung)
    }
}
