import Foundation

/// One entry of `GET /api/models/{repo}/tree/{rev}?recursive=true`.
/// The SHA-256 of an LFS file is `lfs.oid` here (`lfs.sha256` in the `siblings` form).
public struct TreeEntry: Decodable, Equatable, Sendable {
    public struct LFS: Decodable, Equatable, Sendable {
        public var oid: String
        public var size: Int64
        public var pointerSize: Int64?
    }

    public var type: String
    public var path: String
    /// Git object id: the blob SHA-1 of the file (or of its LFS pointer).
    public var oid: String?
    public var size: Int64?
    public var lfs: LFS?

    public var isFile: Bool { type == "file" }

    /// Decodes one page of the tree listing.
    public static func decodePage(_ body: [UInt8]) throws -> [TreeEntry] {
        try JSONDecoder().decode([TreeEntry].self, from: Data(body))
    }
}

/// `GET /api/models/{repo}/revision/{rev}`: only the fields dsm reads.
public struct ModelInfo: Decodable, Sendable {
    public var id: String?
    public var sha: String?
    public var gated: GatedValue?
    public var `private`: Bool?

    /// `gated` is `false` or a string such as `"auto"` / `"manual"`.
    public enum GatedValue: Decodable, Sendable, Equatable {
        case no, mode(String)
        public init(from decoder: any Decoder) throws {
            let c = try decoder.singleValueContainer()
            if let b = try? c.decode(Bool.self) { self = b ? .mode("true") : .no } else { self = .mode(try c.decode(String.self)) }
        }
    }

    public static func decode(_ body: [UInt8]) throws -> ModelInfo {
        try JSONDecoder().decode(ModelInfo.self, from: Data(body))
    }
}
