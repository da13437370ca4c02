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
                    if (0xD800..<0xDC00).contains(u), take(0x5c), take(0x75), let lo = hex4(), (0xDC00..<0xE000).contains(lo) {
                        u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00)
                    }
                    out += Array(String(Character(Unicode.Scalar(u) ?? "\u{FFFD}")).utf8)
                default: return nil
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard i + 4 <= b.count, let v = UInt32(String(decoding: b[i..<i + 4], as: UTF8.self), radix: 16) else { return nil }
            i += 4
            return v
        }

        /// Skips one value of any kind; false when it is malformed.
        mutating func skipValue() -> Bool {
            guard let c = peek else { return false }
            switch c {
            case 0x22: return skipString()
            case 0x7b, 0x5b:
                var depth = 0
                while let d = peek {
                    if d == 0x22 { guard skipString() else { return false }; continue }
                    i += 1
                    if d == 0x7b || d == 0x5b { depth += 1 } else if d == 0x7d || d == 0x5d {
                        depth -= 1
                        if depth == 0 { return true }
                    }
                }
                return false
            default:
                let start = i
                while let d = peek, d != 0x2c, d != 0x7d, d != 0x5d, d != 0x20, d != 0x0a, d != 0x0d, d != 0x09 { i += 1 }
                let word = String(decoding: b[start..<i], as: UTF8.self)
                return word == "true" || word == "false" || word == "null" || Double(word) != nil
            }
        }

        mutating func skipString() -> Bool {
            guard take(0x22) else { return false }
            while let c = peek {
                i += 1
                if c == 0x22 { return true }
                if c < 0x20 { return false }
                if c == 0x5c { i += 1 }
            }
            return false
        }
    }
}
