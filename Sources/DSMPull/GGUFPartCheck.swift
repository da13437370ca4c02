import DSMFormats
import DSMStore

/// Every model file of a GGUF pull must be a GGUF, and a split set's headers must say what their names say
/// (`GGUFSplit.validate`, llama.cpp's loader rule: `split.no` = number − 1, `split.count` = the part count). Checked
/// twice: on the headers read over HTTP before the download (`checkRemote`), and on the stored blobs before the
/// version is recorded (`verify`), so a file that is no GGUF, or a part from another set, leaves nothing registered.
enum GGUFPartCheck {
    /// Checks the headers read before downloading.
    static func checkRemote(_ parts: [PullPlan.File], headers: [GGUFHeader]) throws {
        try check(parts, kvs: headers.map(\.kvs), tensors: headers.map(\.tensors.count), then: "Nothing was downloaded")
    }

    /// Checks `parts` (in order) whose blobs `blobs` names (path → SHA-256) in `store`.
    static func verify(_ parts: [PullPlan.File], blobs: [String: String], store: Store) throws {
        var kvs: [[GGUFKeyValue]] = [], tensors: [Int] = []
        for file in parts {
            guard let sha = blobs[file.path] else { return }  // reported as missing by the caller
            do {
                let file = try GGUFFile(path: store.blobPath(sha))
                kvs.append(file.kvs)
                tensors.append(file.tensors.count)
            } catch {
                throw PullError("\(file.path) was downloaded and matches the repo's checksum, but it is not a GGUF model file (\(error)). "
                                + "Nothing was registered; the repo's file is damaged or misnamed.")
            }
        }
        try check(parts, kvs: kvs, tensors: tensors, then: "Nothing was registered")
    }

    private static func check(_ parts: [PullPlan.File], kvs: [[GGUFKeyValue]], tensors: [Int], then outcome: String) throws {
        do {
            let headers = try zip(parts, kvs).map { file, kv throws(GGUFSplitError) in try GGUFSplit.Header(kvs: kv, file: file.path) }
            try GGUFSplit.validate(headers: headers, names: parts.map(\.path), tensors: tensors)
        } catch {
            throw PullError("\(error.description). \(outcome): the repo's split set is inconsistent (a part from another set?).")
        }
    }
}
