import Foundation

extension BundleTOC {
    /// Decodes the table of contents from its entry's bytes and checks what import relies on before reading any
    /// other entry (`validate`: format, version, limits, paths, sizes, digests). The limits (16 TiB an entry, 100,000
    /// entries) also keep `totalBytes` far from overflowing. Throws `BundleError` saying which check failed.
    public static func decode(_ bytes: [UInt8]) throws -> BundleTOC {
        let t: BundleTOC
        do { t = try JSONDecoder().decode(BundleTOC.self, from: Data(bytes)) } catch {
            throw BundleError("the table of contents does not parse: \(error)")
        }
        try t.validate()
        return t
    }
}
