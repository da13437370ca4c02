import DSMSystem

/// How much metadata a bundle may carry. Import holds the table of contents and every manifest in memory until the
/// whole bundle verified, so these bound its memory whatever a bundle claims (zstd turns a few KiB into gigabytes of
/// white space). They are checked against the table of contents before any other entry is read, and each entry's
/// header must then agree with it. Documented in docs/bundle.md; far above what a real export holds.
public enum BundleLimits {
    /// The table of contents (`dsm-bundle.json`): 32 MiB of JSON.
    public static let tocBytes: Int64 = 32 << 20
    /// Entries the table of contents may list.
    public static let tocEntries = 100_000
    /// One manifest: 8 MiB (a manifest of 10,000 files is about 2 MiB).
    public static let manifestBytes: Int64 = 8 << 20
    /// Manifests in one bundle (one per exported version).
    public static let manifests = 1_000
    /// All manifests of one bundle together: 64 MiB.
    public static let manifestTotalBytes: Int64 = 64 << 20
}

extension BundleTOC {
    /// Checks what import relies on before reading further: every listed path is a manifest or blob named by its
    /// digest, every size is 0 ... `TarFormat.maxEntrySize` (so sums cannot overflow), and the counts and sizes stay
    /// within `BundleLimits`. Pure.
    public func validate() throws(BundleError) {
        guard format == BundleTOC.formatName else { throw BundleError("the table of contents says format '\(TerminalText.escaped(format))', not \(BundleTOC.formatName)") }
        guard version == BundleTOC.currentVersion else {
            throw BundleError("this bundle has format version \(version); this dsm reads version \(BundleTOC.currentVersion) (a newer dsm wrote it: upgrade dsm)")
        }
        guard entries.count <= BundleLimits.tocEntries else {
            throw BundleError("the table of contents lists \(entries.count) entries; a bundle may hold at most \(BundleLimits.tocEntries) (docs/bundle.md)")
        }
        var manifestCount = 0
        var manifestBytes: Int64 = 0
        for e in entries {
            let p: BundlePath
            do { p = try BundlePath(e.path) } catch { throw BundleError(error.description) }
            let shown = TerminalText.escaped(e.path)
            guard e.size >= 0 else { throw BundleError("\(shown) is listed with a negative size") }
            guard e.size <= TarFormat.maxEntrySize else {
                throw BundleError("\(shown) is listed with \(e.size) bytes, larger than the 16 TiB a bundle entry may hold")
            }
            switch p {
            case .toc: throw BundleError("the table of contents lists itself")
            case .blob(let s): guard s == e.sha256 else { throw BundleError("\(shown) is listed with another digest") }
            case .manifest(let d):
                guard d == e.sha256 else { throw BundleError("\(shown) is listed with another digest") }
                guard e.size <= BundleLimits.manifestBytes else {
                    throw BundleError("\(shown) is \(e.size) bytes; a manifest may be at most 8 MiB (docs/bundle.md)")
                }
                manifestCount += 1
                manifestBytes += e.size
            }
        }
        guard manifestCount <= BundleLimits.manifests else {
            throw BundleError("the bundle lists \(manifestCount) manifests; it may hold at most \(BundleLimits.manifests) (docs/bundle.md)")
        }
        guard manifestBytes <= BundleLimits.manifestTotalBytes else {
            throw BundleError("the bundle's manifests hold \(manifestBytes) bytes together; at most 64 MiB are allowed (docs/bundle.md)")
        }
    }
}
