import Foundation
import DSMArtifacts
import DSMConvert
import DSMRegistry
import DSMStore
import DSMSystem
import DSMFormats

/// Where a conversion reads from: a folder, or a stored checkpoint whose files are blobs.
struct ConvertInput {
    var files: CheckpointFiles
    var sourceName: ModelName?
    var sourceManifest: String?

    /// The stored name, or the folder's path.
    var label: String { sourceName?.description ?? files.label }

    static func resolve(_ source: String, store: Store) throws -> ConvertInput {
        try ConvertInput(try ArtifactResolver(store: store).resolve(source, among: [.folder, .stored]))
    }

    /// The checkpoint `artifact` holds (a folder, or a stored version's blobs).
    init(_ artifact: Artifact) throws {
        guard let v = artifact.version, let map = artifact.blobsByPath else {
            self.init(files: .folder(artifact.label), sourceName: nil, sourceManifest: nil)
            return
        }
        // The folder name feeds llama.cpp's naming heuristics; a download folder is named after the repo.
        let repoName = v.manifest.source.repo.split(separator: "/").last.map(String.init) ?? v.name.path.last!
        self.init(files: .stored(label: v.name.description, repoName: repoName, files: map), sourceName: v.name, sourceManifest: v.digest)
    }

    init(files: CheckpointFiles, sourceName: ModelName?, sourceManifest: String?) {
        self.files = files
        self.sourceName = sourceName
        self.sourceManifest = sourceManifest
    }
}

extension String {
    func sanitizedComponent() -> String {
        let mapped = String(map { $0.isLetter || $0.isNumber || "-_.".contains($0) ? $0 : "-" }).drop(while: { $0 == "." || $0 == "-" })
        return mapped.isEmpty ? "model" : String(mapped.prefix(96))
    }
}

extension GGUFFileType {
    /// `f32`, `f16` or `bf16`: the outtype a converted file was written with.
    var outTypeName: String { self == .allF32 ? "f32" : (self == .mostlyF16 ? "f16" : "bf16") }
}
