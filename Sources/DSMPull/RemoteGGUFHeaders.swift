import DSMFormats
import DSMHub
import DSMSystem
import DSMTransfer

/// Reads the headers of a repo's GGUF files over HTTP range requests, before anything is downloaded: the first
/// 512 KiB of each file, four times more while the header is longer (a tokenizer of 150k tokens takes a few MiB),
/// never the tensors. `dsm fit` and `dsm pull` size a quantization from them exactly.
struct RemoteGGUFHeaders {
    let hub: HubClient
    let repo: RepoID
    let commit: String

    /// The header of each of `files`, in order.
    func read(_ files: [PullPlan.File], cancel: CancellationFlag) throws -> [GGUFHeader] {
        try files.map { try read($0, cancel: cancel) }
    }

    func read(_ file: PullPlan.File, cancel: CancellationFlag) throws -> GGUFHeader {
        let etag: String
        switch file.expectation { case .sha256(let h), .gitBlob(let h): etag = h }
        let source = try hub.downloadSource(repo, commit: commit, path: file.path, expectedSize: file.size, expectedETag: etag, cancel: cancel)
        var want = Int64(Self.firstRead)
        while true {
            let length = min(want, file.size)
            var request = HTTPRequest(method: .get, url: source.url, headers: source.headers + ["Range: bytes=0-\(length - 1)", "Accept-Encoding: identity"])
            request.totalTimeout = 120
            let response = try hub.http.send(request, bodyLimit: Int(length), cancel: cancel)
            guard response.status == 206 || response.status == 200 else {
                throw PullError("\(file.path): reading its GGUF header got HTTP \(response.status)")
            }
            let body = Array(response.body.prefix(Int(length)))
            let parsed = body.withUnsafeBytes { bytes in
                Result { () throws(GGUFError) in try GGUFHeader.parse(bytes, file: file.path, fileSize: Int(file.size)) }
            }
            switch parsed {
            case .success(let header): return header
            case .failure(let error):
                guard length < file.size, want < Self.largestRead else {
                    throw PullError("\(file.path) is not a GGUF model file (\(error.detail)). Nothing was downloaded; the repo's file is damaged or misnamed.")
                }
                want *= 4
            }
        }
    }

    static let firstRead = 512 << 10
    static let largestRead: Int64 = 128 << 20
}
