import DSMSystem

/// The tar (ustar) records a bundle is made of: 512-byte headers for regular files, data padded to 512 bytes, two
/// zero blocks at the end. Sizes at or above 8 GiB use the base-256 size field GNU tar, bsdtar and Python's tarfile
/// read. Only regular files are written or accepted (no links, directories or extended headers).
public enum TarFormat {
    public static let block = 512

    public struct Invalid: Error, CustomStringConvertible, Sendable {
        public var description: String
        public init(_ d: String) { description = d }
    }

    /// A header for a regular file `name` (at most 100 bytes) of `size` bytes, mode 0444, time `mtime`.
    public static func header(name: String, size: Int64, mtime: Int64) -> [UInt8] {
        var h = [UInt8](repeating: 0, count: block)
        func put(_ text: String, at offset: Int, width: Int) {
            for (i, b) in text.utf8.prefix(width).enumerated() { h[offset + i] = b }
        }
        func octal(_ v: Int64, at offset: Int, width: Int) {
            let s = String(v, radix: 8)
            put(String(repeating: "0", count: max(0, width - 1 - s.count)) + s, at: offset, width: width - 1)
        }
        put(name, at: 0, width: 100)
        octal(0o444, at: 100, width: 8)
        octal(0, at: 108, width: 8)
        octal(0, at: 116, width: 8)
        if size < 0o777_7777_7777 {
            octal(size, at: 124, width: 12)
        } else {
            h[124] = 0x80  // base-256: big-endian value in the remaining 11 bytes
            var v = size
            for i in stride(from: 135, through: 125, by: -1) { h[i] = UInt8(v & 0xff); v >>= 8 }
        }
        octal(mtime, at: 136, width: 12)
        h[156] = UInt8(ascii: "0")
        put("ustar", at: 257, width: 6)
        put("00", at: 263, width: 2)
        put("dsm", at: 265, width: 32)
        put("dsm", at: 297, width: 32)
        for i in 148..<156 { h[i] = 0x20 }
        let sum = h.reduce(0) { $0 + Int($1) }
        octal(Int64(sum), at: 148, width: 7)
        h[155] = 0x20
        return h
    }

    /// The largest entry a bundle may hold (16 TiB): far above any model file, far below what would overflow a sum of
    /// sizes in 64 bits.
    public static let maxEntrySize: Int64 = 16 << 40

    /// A parsed header: the file name and its size (0 ... `maxEntrySize`). Throws, never traps, on anything else: a
    /// header that is not 512 bytes, a bad checksum, an entry that is not a regular file, a size field that is not a
    /// number, negative (base-256 `0xff…`), or too large.
    public static func parse(_ h: UnsafeRawBufferPointer) throws(Invalid) -> (name: String, size: Int64) {
        guard h.count == block else { throw Invalid("a tar header of \(h.count) bytes, not \(block) (the bundle is truncated or corrupted)") }
        var sum = 0
        for i in 0..<block { sum += (148..<156).contains(i) ? 0x20 : Int(h[i]) }
        guard let stored = octalValue(h, 148, 8), stored == Int64(sum) else { throw Invalid("a tar header's checksum does not match (the bundle is corrupted)") }
        guard h[257..<262].elementsEqual("ustar".utf8) else { throw Invalid("not a ustar header") }
        let type = h[156]
        guard type == UInt8(ascii: "0") || type == 0 else {
            throw Invalid("entry type '\(TerminalText.escaped(String(Character(Unicode.Scalar(type)))))' is not a regular file; bundles hold regular files only")
        }
        let prefix = string(h, 345, 155)
        let raw = (prefix.isEmpty ? "" : prefix + "/") + string(h, 0, 100)
        let name = TerminalText.escaped(raw)
        let size: Int64
        switch h[124] {
        case 0x80:  // base-256, positive: big-endian value in the remaining 11 bytes
            var v: Int64 = 0
            for i in 125..<136 {
                guard v <= Int64.max >> 8 else { throw Invalid("\(name): the size field is too large (the bundle is corrupted or crafted)") }
                v = (v << 8) | Int64(h[i])
            }
            size = v
        case 0xFF: throw Invalid("\(name) has a negative size in its tar header (the bundle is corrupted or crafted)")
        case let b where b & 0x80 != 0: throw Invalid("\(name): the size field is not a number")
        default:
            guard let s = octalValue(h, 124, 12) else { throw Invalid("\(name): the size field is not a number") }
            size = s
        }
        // A signed octal text ("-1") would give a negative size, which the reader cannot count down from.
        guard size >= 0 else { throw Invalid("\(name): the size field is negative (\(size)); the bundle is corrupted") }
        guard size <= maxEntrySize else {
            throw Invalid("\(name) says it holds \(size) bytes, larger than the 16 TiB a bundle entry may hold (the bundle is corrupted or crafted)")
        }
        return (raw, size)
    }

    static func string(_ h: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> String {
        let bytes = h[offset..<offset + width]
        return String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    /// An octal field (digits, optionally padded with spaces; empty is 0), or nil when it holds anything else (a sign,
    /// a letter): `Int64(_:radix:)` alone would take "-1".
    static func octalValue(_ h: UnsafeRawBufferPointer, _ offset: Int, _ width: Int) -> Int64? {
        let text = string(h, offset, width).filter { $0 != " " }
        guard text.utf8.allSatisfy({ (UInt8(ascii: "0")...UInt8(ascii: "7")).contains($0) }) else { return nil }
        return text.isEmpty ? 0 : Int64(text, radix: 8)
    }

    /// Zero bytes that pad `size` bytes of data to a whole block.
    public static func padding(_ size: Int64) -> Int { Int((Int64(block) - size % Int64(block)) % Int64(block)) }
}

/// What a bundle entry may be: its table of contents, a version manifest, or a blob, each named by content.
/// Any other path (absolute, `..`, other folders, other names) is refused: nothing in a bundle can write outside
/// the store or under another name.
public enum BundlePath: Equatable, Sendable {
    case toc
    case manifest(digest: String)
    case blob(sha256: String)

    public static let tocName = "dsm-bundle.json"

    public init(_ path: String) throws(TarFormat.Invalid) {
        func hex64(_ s: Substring) -> String? { Hex.isLowerHex(s, length: 64) ? String(s) : nil }
        if path == BundlePath.tocName { self = .toc; return }
        if path.hasPrefix("manifests/sha256-"), path.hasSuffix(".json"), let d = hex64(path.dropFirst(17).dropLast(5)) {
            self = .manifest(digest: d); return
        }
        if path.hasPrefix("blobs/sha256-"), let d = hex64(path.dropFirst(13)) { self = .blob(sha256: d); return }
        throw TarFormat.Invalid("the entry '\(TerminalText.escaped(path))' is not a path a dsm bundle holds (it could escape the store); refusing the bundle")
    }

    public var path: String {
        switch self {
        case .toc: return BundlePath.tocName
        case .manifest(let d): return "manifests/sha256-\(d).json"
        case .blob(let s): return "blobs/sha256-\(s)"
        }
    }
}
