import Foundation
import DSMConvert
import DSMRegistry
import DSMStore
import DSMSystem
import DSMFormats

/// Where a conversion reads from: a folder, or a stored model whose files are blobs.
struct ConvertInput {
    var directory: String
    var resolve: @Sendable (String) -> String?
    var sourceName: ModelName?
    var sourceManifest: String?

    static func resolve(_ source: String, store: Store) throws -> ConvertInput {
        if FileSystem.isDirectory(source) {
            return ConvertInput(directory: FileSystem.absolute(source).trimmingSuffix("/"), resolve: { _ in nil })
        }
        guard let found = try storedVersion(source, store: store) else {
            throw CommandFailure(message: "'\(source)' is neither a folder nor a model in \(store.root); `dsm list` shows stored models, `dsm pull` fetches one")
        }
        let (name, manifest, digest) = (found.name, found.manifest, found.digest)
        var files: [String: String] = [:]
        for f in manifest.files { files[f.path] = store.blobPath(f.sha256) }
        let map = files
        // The folder name feeds llama.cpp's naming heuristics; a download folder is named after the repo.
        let repoName = manifest.source.repo.split(separator: "/").last.map(String.init) ?? name.path.last!
        // Paths under /dev/null cannot exist, so a file the manifest lacks is reported missing instead of being
        // read from the host; the last component is what llama.cpp's naming heuristics see.
        return ConvertInput(directory: "/dev/null/" + repoName, resolve: { map[$0] }, sourceName: name, sourceManifest: digest)
    }
}

/// `NAME[@SELECTOR]` as a stored version (from the registry's committed state), nil when no such name is stored;
/// a selector naming no version is a clear error.
func storedVersion(_ text: String, store: Store) throws -> ResolvedVersion? {
    do {
        return try Registry(store: store).lookup(text)
    } catch let e as ReleaseError {
        throw CommandFailure(message: e.description)
    }
}

extension String {
    func trimmingSuffix(_ s: String) -> String { hasSuffix(s) && count > 1 ? String(dropLast(s.count)) : self }
    func sanitizedComponent() -> String {
        let mapped = String(map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" }).drop(while: { $0 == "." || $0 == "-" })
        return mapped.isEmpty ? "model" : String(mapped.prefix(96))
    }
}

extension GGUFFileType {
    /// `f32`, `f16` or `bf16`: the outtype a converted file was written with.
    var outTypeName: String { self == .allF32 ? "f32" : (self == .mostlyF16 ? "f16" : "bf16") }
}
