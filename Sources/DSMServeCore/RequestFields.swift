/// The three fields the gateway routes by, read from a request body without building the whole JSON tree:
/// `model`, `user` and `stream` at the top level of the object. Other values are skipped (strings with their
/// escapes, nested objects and arrays), so a long `messages` array costs one pass over its bytes.
public struct RequestFields: Sendable, Equatable {
    public var model: String?
    public var user: String?
    public var stream = false

    public init(model: String? = nil, user: String? = nil, stream: Bool = false) {
        self.model = model
        self.user = user
        self.stream = stream
    }

    /// Nil when `bytes` is not a JSON object.
    public static func scan(_ bytes: UnsafeRawBufferPointer) -> RequestFields? {
        var s = Scanner(b: bytes)
        s.space()
        guard s.take(0x7b) else { return nil }  // {
        var out = RequestFields()
        s.space()
        if s.take(0x7d) { return s.atEnd() ? out : nil }
        while true {
            s.space()
            guard let key = s.string() else { return nil }
            s.space()
            guard s.take(0x3a) else { return nil }  // :
            s.space()
            switch key {
            case "model", "user":
                if s.peek == 0x22 {
                    guard let v = s.string() else { return nil }
                    if key == "model" { out.model = v } else { out.user = v }
                } else if !s.skipValue() { return nil }
            case "stream":
                if s.literal("true") { out.stream = true } else if !s.skipValue() { return nil }
            default:
                if !s.skipValue() { return nil }
            }
            s.space()
            if s.take(0x2c) { continue }  // ,
            guard s.take(0x7d) else { return nil }
            return s.atEnd() ? out : nil
        }
    }

    struct Scanner {
        let b: UnsafeRawBufferPointer
        var i = 0
        var peek: UInt8? { i < b.count ? b[i] : nil }

        mutating func space() { while let c = peek, c == 0x20 || c == 0x0a || c == 0x0d || c == 0x09 { i += 1 } }
        mutating func take(_ c: UInt8) -> Bool {
            guard peek == c else { return false }
            i += 1
            return true
        }
        mutating func atEnd() -> Bool {
            space()
            return i == b.count
        }
        mutating func literal(_ word: String) -> Bool {
            let w = Array(word.utf8)
            guard i + w.count <= b.count, (0..<w.count).allSatisfy({ b[i + $0] == w[$0] }) else { return false }
            i += w.count
            return true
        }

        /// A string value, unescaped (\uXXXX included, surrogate pairs joined).
        mutating func string() -> String? {
            guard take(0x22) else { return nil }
            var out: [UInt8] = []
            while let c = peek {
                i += 1
                if c == 0x22 { return String(decoding: out, as: UTF8.self) }
                if c < 0x20 { return nil }
                guard c == 0x5c else { out.append(c); continue }
                guard let e = peek else { return nil }
                i += 1
                switch e {
                case 0x22, 0x5c, 0x2f: out.append(e)
                case 0x62: out.append(0x08)
                case 0x66: out.append(0x0c)
                case 0x6e: out.append(0x0a)
                case 0x72: out.append(0x0d)
                case 0x74: out.append(0x09)
                case 0x75:
                    guard var u = hex4() else { return nil }
                    if (0xD800..<0xDC00).contains(u) {
                        let mark = i
                        if take(0x5c), take(0x75), let lo = hex4(), (0xDC00..<0xE000).contains(lo) {
                            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                        } else {
                            i = mark
                        }
                    }
                    out += Array(String(Character(Unicode.Scalar(u) ?? "\u{FFFD}")).utf8)
                default: return nil
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard i + 4 <= b.count else { return nil }
            var v: UInt32 = 0
            for k in 0..<4 {
                let c = b[i + k]
                let d: UInt8
                switch c {
                case 0x30...0x39: d = c - 0x30
                case 0x41...0x46: d = c - 0x41 + 10
                case 0x61...0x66: d = c - 0x61 + 10
                default: return nil
                }
                v = v << 4 | UInt32(d)
            }
            i += 4
            return v
        }

        /// Deepest nesting of arrays and objects accepted in a body.
        static let maxDepth = 512

        /// Skips one value of any kind, checking it strictly against JSON's grammar (numbers, literals, string
        /// escapes, nesting up to `maxDepth`); false when it is malformed. Iterative, so deep nesting cannot
        /// exhaust the stack.
        mutating func skipValue() -> Bool {
            var closers: [UInt8] = []
            value: while true {
                space()
                guard let c = peek else { return false }
                if c == 0x7b || c == 0x5b {  // { [
                    i += 1
                    space()
                    let close: UInt8 = c == 0x7b ? 0x7d : 0x5d
                    if !take(close) {
                        guard closers.count < Scanner.maxDepth else { return false }
                        closers.append(close)
                        if close == 0x7d, !member() { return false }
                        continue value
                    }
                } else if c == 0x22 {
                    guard skipString() else { return false }
                } else if !scalar() {
                    return false
                }
                // After a value: a comma continues the innermost container, its closer ends it.
                while let close = closers.last {
                    space()
                    if take(0x2c) {
                        if close == 0x7d, !member() { return false }
                        continue value
                    }
                    guard take(close) else { return false }
                    closers.removeLast()
                }
                return true
            }
        }

        /// An object member's key and colon.
        mutating func member() -> Bool {
            space()
            guard skipString() else { return false }
            space()
            return take(0x3a)
        }

        /// `true`, `false`, `null` or a number as JSON writes it (no `nan`, `inf`, hex or leading `+`).
        mutating func scalar() -> Bool {
            if literal("true") || literal("false") || literal("null") { return true }
            let start = i
            _ = take(0x2d)  // -
            if take(0x30) {} else if digits() == 0 { i = start; return false }
            if take(0x2e), digits() == 0 { i = start; return false }  // .
            if take(0x65) || take(0x45) {  // e E
                if !take(0x2b) { _ = take(0x2d) }
                if digits() == 0 { i = start; return false }
            }
            return true
        }

        /// Skips decimal digits; how many.
        mutating func digits() -> Int {
            let start = i
            while let d = peek, d >= 0x30, d <= 0x39 { i += 1 }
            return i - start
        }

        /// Skips a string, checking its escapes.
        mutating func skipString() -> Bool {
            guard take(0x22) else { return false }
            while let c = peek {
                i += 1
                if c == 0x22 { return true }
                if c < 0x20 { return false }
                if c == 0x5c {
                    guard let e = peek else { return false }
                    i += 1
                    switch e {
                    case 0x22, 0x5c, 0x2f, 0x62, 0x66, 0x6e, 0x72, 0x74: continue
                    case 0x75: guard hex4() != nil else { return false }
                    default: return false
                    }
                }
            }
            return false
        }
    }
}
