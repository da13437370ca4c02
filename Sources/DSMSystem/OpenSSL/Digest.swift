internal import COpenSSL

/// A streaming message digest over OpenSSL's EVP interface (`EVP_DigestInit_ex`,
/// `EVP_DigestUpdate`, `EVP_DigestFinal_ex`). One owner per context; not thread-safe.
public final class Digest {
    /// The algorithms dsm needs: SHA-256 for content addresses and LFS oids,
    /// SHA-1 for the git blob ids the Hub gives small files.
    public enum Algorithm: Sendable {
        case sha256
        case sha1

        var evp: OpaquePointer? {
            switch self {
            case .sha256: return EVP_sha256()
            case .sha1: return EVP_sha1()
            }
        }

        /// Digest length in bytes.
        public var length: Int { self == .sha256 ? 32 : 20 }
    }

    private let context: OpaquePointer
    public let algorithm: Algorithm
    /// Bytes fed so far.
    public private(set) var count: Int64 = 0

    /// Starts a new digest. Calls `EVP_MD_CTX_new` and `EVP_DigestInit_ex`.
    public init(_ algorithm: Algorithm = .sha256) {
        guard let ctx = EVP_MD_CTX_new() else { fatalError("EVP_MD_CTX_new returned NULL (out of memory)") }
        context = ctx
        self.algorithm = algorithm
        guard EVP_DigestInit_ex(ctx, algorithm.evp, nil) == 1 else { fatalError("EVP_DigestInit_ex failed") }
    }

    deinit { EVP_MD_CTX_free(context) }

    /// Feeds raw bytes. Calls `EVP_DigestUpdate`.
    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(context, base, bytes.count)
        count += Int64(bytes.count)
    }

    /// Feeds a byte array.
    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// Feeds the UTF-8 bytes of a string.
    public func update(_ text: String) {
        var copy = text
        copy.withUTF8 { update(UnsafeRawBufferPointer($0)) }
    }

    /// Finishes and returns the digest bytes. Calls `EVP_DigestFinal_ex`. The digest cannot be updated afterwards.
    public func finalize() -> [UInt8] {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        EVP_DigestFinal_ex(context, &out, &length)
        return Array(out.prefix(Int(length)))
    }

    /// Finishes and returns the digest as lower-case hex.
    public func finalizeHex() -> String { Hex.encode(finalize()) }

    /// SHA-256 of a byte array.
    public static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        let d = Digest(.sha256)
        d.update(bytes)
        return d.finalize()
    }

    /// SHA-256 of a byte array, as hex.
    public static func sha256Hex(_ bytes: [UInt8]) -> String {
        let d = Digest(.sha256)
        d.update(bytes)
        return d.finalizeHex()
    }

    /// The git blob id of content: SHA-1 over `"blob <size>\0"` followed by the content.
    /// This is what the Hub reports as `oid`/`ETag` for files not stored in LFS.
    public static func gitBlobHeader(size: Int64) -> [UInt8] {
        Array("blob \(size)".utf8) + [0]
    }
}
