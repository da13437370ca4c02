import DSMFormats
import DSMStore

/// Every model file of a GGUF pull must be a GGUF, and a split set's headers must say what their names say
/// (`split.no` = number − 1, `split.count` = the part count). Checked twice: on the headers read over HTTP before the
/// download (`checkRemote`), and on the stored blobs before the version is recorded (`verify`), so a file that is no
/// GGUF, or a part from another set, leaves nothing registered.
enum GGUFPartCheck {
    /// Checks the headers read before downloading.
    static func checkRemote(_ parts: [PullPlan.File], headers: [GGUFHeader]) throws {
        for (file, header) in zip(parts, headers) {
            if let problem = problem(value: header.value, name: GGUFFileName(file.path), count: parts.count) {
                throw PullError("\(file.path): \(problem). Nothing was downloaded; the repo's split set is inconsistent (a part from another set?).")
            }
        }
    }

    /// Checks `parts` (in order) whose blobs `blobs` names (path → SHA-256) in `store`.
    static func verify(_ parts: [PullPlan.File], blobs: [String: String], store: Store) throws {
        for file in parts {
            guard let sha = blobs[file.path] else { continue }  // reported as missing by the caller
            let header: GGUFFile
            do {
                header = try GGUFFile(path: store.blobPath(sha))
            } catch {
                throw PullError("\(file.path) was downloaded and matches the repo's checksum, but it is not a GGUF model file (\(error)). "
                                + "Nothing was registered; the repo's file is damaged or misnamed.")
            }
            if let problem = problem(value: header.value, name: GGUFFileName(file.path), count: parts.count) {
                throw PullError("\(file.path): \(problem). Nothing was registered; the repo's split set is inconsistent (a part from another set?).")
            }
        }
    }

    /// Why a part's header disagrees with its name, or nil. A single file (no split suffix) must not claim to be a part
    /// of several.
    static func problem(value: (String) -> GGUFValue?, name: GGUFFileName?, count: Int) -> String? {
        let no = value("split.no")?.integer, total = value("split.count")?.integer
        guard let part = name?.part else {
            if let total, total > 1 { return "its header says it is one of \(total) split parts, but its name has no -0000N-of-0000M suffix" }
            return nil
        }
        guard let no, let total else { return "its name makes it part \(part.number) of \(part.count), but its header has no split.no/split.count" }
        guard total == part.count, total == count else { return "its header says split.count \(total), its name \(part.count) parts" }
        guard no == part.number - 1 else { return "its header says it is part \(no + 1) (split.no \(no)), its name part \(part.number)" }
        return nil
    }
}
