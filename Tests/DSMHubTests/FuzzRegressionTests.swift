import Testing
import DSMHub

/// Header values that trapped (docs/security.md "Fuzzing"), kept as tests.
@Suite struct HubFuzzRegressionTests {
    /// `RateLimit: r=0;t=9223372036854775807` asked for Int.max + 1 seconds, an overflow trap in `serverDelay`.
    @Test func rateLimitResetAtIntMaxDoesNotOverflow() {
        let delay = RetryHints.serverDelay(headers: ["ratelimit": #""api";r=0;t=9223372036854775807"#])
        #expect(delay == Double(Int.max) + 1)
        #expect(RetryHints.serverDelay(headers: ["ratelimit": "r=0;t=59"]) == 60)
    }
}
