import Testing
import DSMServeCore

/// What a client's request may put into the gateway's logs and limits (security review findings 4, 10, 12, 17).
@Suite struct GatewayInputTests {
    func scan(_ text: String) -> RequestFields? { Array(text.utf8).withUnsafeBytes { RequestFields.scan($0) } }

    @Test func numbersFollowJSONsGrammar() {
        for bad in ["nan", "NaN", "inf", "-inf", "infinity", "0x10", "+1", "1.", ".5", "01", "1e", "1e+", "--1", "0x1p3", "1_000"] {
            #expect(scan(#"{"model":"m","temperature":\#(bad)}"#) == nil, "\(bad) passed as a number")
            #expect(scan(#"{"model":"m","messages":[\#(bad)]}"#) == nil, "\(bad) passed inside an array")
        }
        for good in ["0", "-0", "1.5", "-2e10", "3E-2", "1e+5", "123456789012345678901234567890"] {
            #expect(scan(#"{"model":"m","temperature":\#(good),"a":[\#(good),{"b":\#(good)}]}"#) == RequestFields(model: "m"), "\(good)")
        }
    }

    @Test func nestedValuesAreCheckedAndDepthIsBounded() {
        #expect(scan(#"{"model":"m","messages":[{"role":"user" "content":"x"}]}"#) == nil, "a missing comma inside")
        #expect(scan(#"{"model":"m","messages":[{"role":"user",}]}"#) == nil, "a trailing comma inside")
        #expect(scan(#"{"model":"m","messages":[1,]}"#) == nil)
        #expect(scan(#"{"model":"m","x":{"a":1,"b":[true,false,null,"s\n\u00e9"]}}"#) == RequestFields(model: "m"))
        #expect(scan(#"{"model":"m","x":"bad \q escape"}"#) == nil)
        #expect(scan(#"{"model":"m","x":"\u+123"}"#) == nil, "a sign is not a hex digit")
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        #expect(scan(#"{"model":"m","x":\#(deep)}"#) == nil, "nesting beyond the limit is refused, without recursion")
        let ok = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(scan(#"{"model":"m","x":\#(ok)}"#) == RequestFields(model: "m"))
    }

    @Test func loggedBodiesAreOneLineOfValidJSON() {
        // A body whose whitespace holds a newline would forge a second log line if embedded raw.
        let forged = "{\"model\":\"m\",\n\"messages\":[]}\n{\"time\":\"forged\"}"
        #expect(scan(forged) == nil, "two objects are not one body")
        let body = Array("{\"model\" : \"m\",\n\t\"messages\": [ {\"content\": \"a b\\n\"} ] }\r\n".utf8)
        #expect(LogText.jsonValue(body: body) == #"{"model":"m","messages":[{"content":"a b\n"}]}"#)
        // Not JSON: logged as an escaped string.
        let junk = Array("{\"model\":nan}\n{\"x\":1}".utf8)
        let logged = LogText.jsonValue(body: junk)
        #expect(!logged.contains("\n") && logged.hasPrefix("\"") && logged.hasSuffix("\""), "\(logged)")
    }

    @Test func fieldsAreCapped() {
        #expect(LogText.capped("short") == "short")
        let long = String(repeating: "é", count: 1_000)  // 2,000 bytes
        let c = LogText.capped(long, limit: 11)
        #expect(c == String(repeating: "é", count: 5) + "…[1990 more bytes]", "whole characters only: \(c)")
        #expect(LogText.capped(String(repeating: "m", count: 1 << 20)).utf8.count < LogText.maxFieldLength + 40)
    }

    @Test func metricsKeepOneSeriesPerLabel() {
        var m = GatewayMetrics()
        for i in 0..<1_000 { m.record(model: "unknown", version: "-", route: "/v1/chat/completions", status: 404, seconds: Double(i) / 1000) }
        let text = m.render()
        #expect(text.split(separator: "\n").filter { $0.hasPrefix("dsm_requests_total{") }.count == 1, "one series for every unknown name")
        #expect(text.utf8.count < 4_000)
    }

    @Test func rateLimiterMemoryIsBounded() {
        var limiter = RateLimiter(perMinute: 60, burst: 5)
        for i in 0..<(RateLimiter.maxBuckets * 3) { _ = limiter.take("addr-\(i)", now: 1_000) }
        #expect(limiter.trackedKeys <= RateLimiter.maxBuckets)
        // Callers whose bucket refilled go first: a caller that is being limited stays limited.
        var l = RateLimiter(perMinute: 1, burst: 1)
        for i in 0..<(RateLimiter.maxBuckets - 1) { _ = l.take("x\(i)", now: 0) }
        #expect(l.take("a", now: 10_000).allowed)
        _ = l.take("b", now: 10_001)  // the table is full: prune
        #expect(l.trackedKeys == 2, "only the refilled callers were forgotten")
        #expect(!l.take("a", now: 10_002).allowed)
    }
}
