import DSMSystem

/// Engine-side state of one item being downloaded. Every mutable field is guarded by the engine's lock.
final class ActiveFile: @unchecked Sendable {
    let item: DownloadItem
    let file: RandomAccessFile
    var table: SegmentTable
    /// Bumped whenever the plan is thrown away (corrupt download, server ignoring ranges); transfers of an
    /// older generation stop at their next chunk.
    var generation = 0
    /// The server ignored a `Range` request: fetch the rest as one stream from byte 0.
    var sequential = false
    var source: DownloadSource?
    var needsFreshSource = false
    var token: AnyObject?

    // Hashing (touched by the hasher thread only, except `hashed`, read for progress).
    var hashed: Int64 = 0
    var sha256 = Digest(.sha256)
    var gitSHA1: Digest?
    var mismatches = 0

    // Accounting.
    let reusedAtStart: Int64
    var writtenThisRun: Int64 = 0
    var lastSavedTable: SegmentTable?

    init(item: DownloadItem, file: RandomAccessFile, table: SegmentTable, token: AnyObject?) {
        self.item = item
        self.file = file
        self.table = table
        self.token = token
        reusedAtStart = table.completedBytes
        resetDigests()
    }

    func resetDigests() {
        hashed = 0
        sha256 = Digest(.sha256)
        if case .gitBlob = item.expected {
            let d = Digest(.sha1)
            d.update(Digest.gitBlobHeader(size: item.size))
            gitSHA1 = d
        } else {
            gitSHA1 = nil
        }
    }
}
