import Foundation
import DSMHub
import DSMSystem
import DSMTransfer

/// The Hub calls `dsm pull` makes, following huggingface_hub's protocol: resolve the revision to a commit,
/// list files through the paginated tree API, and `HEAD` each resolve URL, following relative redirects
/// itself and stopping at a cross-host redirect (the CDN), whose URL is then fetched without `Authorization`.
public final class HubClient: @unchecked Sendable {
    public let endpoint: HubEndpoint
    let http: HTTPClient
    let token: HubToken?

    public init(endpoint: HubEndpoint, http: HTTPClient, token: HubToken?) {
        self.endpoint = endpoint
        self.http = http
        self.token = token
    }

    var authHeaders: [String] { token.map { ["Authorization: Bearer \($0.value)"] } ?? [] }

    func hubError(_ response: HTTPClient.Response, repo: RepoID, revision: String?, path: String?) -> HubError {
        HubError.classify(status: response.status, headers: response.head.headers, repo: repo.description,
                          revision: revision, path: path, endpoint: endpoint.base, hadToken: token != nil)
    }

    /// The commit id a revision points to (`GET /api/models/{repo}/revision/{rev}` → `sha`).
    public func resolveCommit(_ repo: RepoID, revision: String) throws -> String {
        let response = try http.send(HTTPRequest(url: endpoint.modelInfoURL(repo, revision: revision), headers: authHeaders))
        guard response.status == 200 else { throw hubError(response, repo: repo, revision: revision, path: nil) }
        guard let info = try? ModelInfo.decode(response.body), let sha = info.sha, Revision.isCommit(sha) else {
            throw PullError("the Hub's answer for \(repo) at \(revision) has no commit id; is HF_ENDPOINT (\(endpoint.base)) a Hugging Face compatible server?")
        }
        return sha
    }

    /// Every entry of the repo at `commit`, following `Link: rel="next"` pages.
    public func listTree(_ repo: RepoID, commit: String) throws -> [TreeEntry] {
        var url: String? = endpoint.treeURL(repo, revision: commit)
        var entries: [TreeEntry] = []
        var pages = 0
        let origin = HubEndpoint.origin(of: endpoint.base)
        while let next = url {
            pages += 1
            guard pages <= 10_000 else { throw PullError("the file listing of \(repo) did not end after 10,000 pages") }
            // A next-page link on another host gets no token.
            let headers = HubEndpoint.origin(of: next) == origin ? authHeaders : []
            let response = try http.send(HTTPRequest(url: next, headers: headers))
            guard response.status == 200 else { throw hubError(response, repo: repo, revision: commit, path: nil) }
            do {
                entries += try TreeEntry.decodePage(response.body)
            } catch {
                throw PullError("the file listing of \(repo) is not valid JSON (\(error)); is HF_ENDPOINT a Hugging Face compatible server?")
            }
            url = LinkHeader.url(rel: "next", in: response.head["link"]).map { HubEndpoint.resolveReference($0, from: next) }
            if url == next { throw PullError("the file listing of \(repo) points to the same page again; the server is misbehaving") }
        }
        return entries
    }

    /// Where to download `path` from, after `HEAD` and redirects, with the headers that hop may carry.
    /// Checks the size and ETag the Hub reports against the listing.
    public func downloadSource(_ repo: RepoID, commit: String, path: String, expectedSize: Int64,
                               expectedETag: String, cancel: CancellationFlag? = nil) throws -> DownloadSource {
        var url = endpoint.resolveURL(repo, revision: commit, path: path)
        let origin = HubEndpoint.origin(of: url)
        var metadata: FileMetadata?
        for _ in 0..<10 {
            let sameHost = HubEndpoint.origin(of: url) == origin
            var request = HTTPRequest(method: .head, url: url, headers: (sameHost ? authHeaders : []) + ["Accept-Encoding: identity"])
            request.totalTimeout = 30
            let response = try http.send(request, cancel: cancel)
            let meta = FileMetadata(status: response.status, headers: response.head.headers)
            if metadata == nil || meta.etag != nil { metadata = metadata ?? meta }
            if (300...399).contains(response.status), let location = meta.location {
                let target = HubEndpoint.resolveRedirect(location, from: url)
                if HubEndpoint.origin(of: target) != origin {
                    try check(metadata ?? meta, path: path, size: expectedSize, etag: expectedETag, commit: commit)
                    return DownloadSource(url: target, headers: [])  // signed CDN URL: no Authorization
                }
                url = target
                continue
            }
            guard (200...299).contains(response.status) else { throw hubError(response, repo: repo, revision: commit, path: path) }
            // Same-host answer (small files via resolve-cache): its own ETag and size describe the content.
            var final = meta
            if final.commit == nil { final.commit = metadata?.commit }
            try check(final, path: path, size: expectedSize, etag: expectedETag, commit: commit)
            return DownloadSource(url: url, headers: authHeaders)
        }
        throw PullError("too many redirects while resolving \(path) in \(repo)")
    }

    /// The resolve URL itself, with the token: for small files whose redirects the download follows.
    public func directSource(_ repo: RepoID, commit: String, path: String) -> DownloadSource {
        DownloadSource(url: endpoint.resolveURL(repo, revision: commit, path: path), headers: authHeaders)
    }

    private func check(_ meta: FileMetadata, path: String, size: Int64, etag: String, commit: String) throws {
        if let got = meta.commit, got != commit {
            throw PullError("\(path): the Hub served commit \(got) while \(commit) was requested; run the command again")
        }
        if let got = meta.size, got != size {
            throw PullError("\(path): the Hub reports \(got) bytes but the file listing said \(size); the repo changed while pulling: run the command again")
        }
        if let got = meta.etag, Hex.isLowerHex(got, length: etag.count), got != etag {
            throw PullError("\(path): the Hub reports content \(got) but the file listing said \(etag); run the command again")
        }
    }
}
