/// The API keys the gateway accepts, held only as SHA-256 digests.
///
/// The key file has one key per line; blank lines and lines starting with `#` are skipped; a line
/// `sha256:<64 hex>` is a key given by its digest (so the file need not hold the secret at all). A presented key
/// is hashed and compared with every stored digest in constant time, without stopping at a match, so timing says
/// nothing about which key (or how much of one) matched. Keys are never logged; `label` names a key in logs by the
/// first 8 hex digits of its digest.
public struct APIKeyRing: Sendable {
    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var description: String
    }

    private let digests: [[UInt8]]
    private let hash: @Sendable ([UInt8]) -> [UInt8]

    /// Parses the key file text; `hash` is SHA-256 (injected so this type stays free of crypto libraries).
    public init(fileText: String, hash: @escaping @Sendable ([UInt8]) -> [UInt8]) throws(Invalid) {
        var out: [[UInt8]] = []
        // Lines and blanks are cut on the UTF-8 bytes, not on Characters: Swift reads "\r\n" as one Character (which
        // a split on "\n" never matches, so a CRLF file would load as one long key), and a space followed by a
        // combining mark as one that is not " ".
        let blank: (UInt8) -> Bool = { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
        for (i, raw) in Array(fileText.utf8).split(separator: 0x0A, omittingEmptySubsequences: false).enumerated() {
            let bytes = raw.drop(while: blank).reversed().drop(while: blank).reversed()
            let line = String(decoding: bytes, as: UTF8.self)
            if line.isEmpty || line.hasPrefix("#") { continue }
            if line.hasPrefix("sha256:") {
                guard let d = APIKeyRing.hexBytes(String(line.dropFirst(7))), d.count == 32 else {
                    throw Invalid(description: "line \(i + 1): sha256: must be followed by 64 hex digits")
                }
                out.append(d)
            } else {
                guard line.count >= 8, !bytes.contains(where: blank) else {
                    throw Invalid(description: "line \(i + 1): a key must be at least 8 characters without spaces")
                }
                out.append(hash(Array(line.utf8)))
            }
        }
        guard !out.isEmpty else { throw Invalid(description: "the key file holds no key") }
        digests = out
        self.hash = hash
    }

    public var count: Int { digests.count }

    /// The label of the matching key (`key-1a2b3c4d`), or nil when `presented` matches none.
    public func match(_ presented: String) -> String? {
        let d = hash(Array(presented.utf8))
        var found = -1
        for (i, stored) in digests.enumerated() {
            var diff: UInt8 = 0
            for j in 0..<32 { diff |= stored[j] ^ d[j] }
            // Branch-free select: keeps the first match without an early exit.
            let isMatch = Int(diff == 0 ? 1 : 0)
            found = found >= 0 ? found : (isMatch == 1 ? i : -1)
        }
        guard found >= 0 else { return nil }
        return "key-" + digests[found].prefix(4).map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
    }

    /// The key in an `Authorization: Bearer …` or `x-api-key` header value.
    public static func presentedKey(authorization: String?, xAPIKey: String?) -> String? {
        if let a = authorization {
            let t = a.trimmingCharacters(in: " ")
            if t.lowercased().hasPrefix("bearer ") { return String(t.dropFirst(7)).trimmingCharacters(in: " ") }
        }
        return xAPIKey?.trimmingCharacters(in: " ")
    }

    static func hexBytes(_ s: String) -> [UInt8]? {
        var out: [UInt8] = []
        var chars = Array(s.utf8)
        guard chars.count % 2 == 0 else { return nil }
        while !chars.isEmpty {
            guard let b = UInt8(String(decoding: chars.prefix(2), as: UTF8.self), radix: 16) else { return nil }
            out.append(b)
            chars.removeFirst(2)
        }
        return out
    }
}

extension StringProtocol {
    func trimmingCharacters(in set: String) -> String {
        let drop: (Character) -> Bool = { set.contains($0) }
        return String(self.drop(while: drop).reversed().drop(while: drop).reversed())
    }
}
