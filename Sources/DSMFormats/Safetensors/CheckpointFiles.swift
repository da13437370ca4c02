import Foundation

/// Where a Hugging Face checkpoint's files are: each repo-relative name (`config.json`,
/// `model-00001-of-00002.safetensors`) maps to a path on disk. A folder maps names under it; a stored version
/// maps them to its content-addressed blobs, and a name its manifest lacks has no path (so it is never read from
/// somewhere else on the host). Everything that reads a checkpoint (the safetensors shards, config, tokenizer and
/// model card) takes one of these instead of a folder plus a lookup function.
public struct CheckpointFiles: Sendable {
    /// Shown in messages: the folder's path, or the stored version's name.
    public let label: String
    /// What llama.cpp's naming heuristics see as the folder name: the folder's last component, or the repo's name
    /// for a stored version (a download folder is named after the repo).
    public let folderName: String
    private let folder: String?
    private let files: [String: String]

    /// The files under `path`.
    public static func folder(_ path: String) -> CheckpointFiles {
        let trimmed = path.count > 1 && path.hasSuffix("/") ? String(path.dropLast()) : path
        let last = trimmed.split(separator: "/").last.map(String.init) ?? trimmed
        return CheckpointFiles(label: path, folderName: last, folder: trimmed, files: [:])
    }

    /// The files of a stored version: repo-relative name → blob path.
    public static func stored(label: String, repoName: String, files: [String: String]) -> CheckpointFiles {
        CheckpointFiles(label: label, folderName: repoName, folder: nil, files: files)
    }

    /// The path of `name` if the checkpoint has that file, else nil.
    public func path(_ name: String) -> String? {
        let candidate = folder.map { $0 + "/" + name } ?? files[name]
        guard let candidate, FileManager.default.fileExists(atPath: candidate) else { return nil }
        return candidate
    }

    /// The bytes of `name`, or nil when the checkpoint has no such file (or it cannot be read).
    public func contents(_ name: String) -> Data? { path(name).flatMap { FileManager.default.contents(atPath: $0) } }
}
