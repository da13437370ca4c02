import Foundation
import DSMArtifacts
import DSMFormats
import DSMRegistry
import DSMStore
import DSMSystem

/// The files of a GGUF input: one file, or every part of a split GGUF in order. A path named as part 1
/// (`x-00001-of-00003.gguf`) brings its siblings from the same folder; a stored version whose first GGUF is a part
/// brings the manifest's other parts of the same stem. The parts' headers are checked when they are opened
/// (`GGUFModel`).
enum GGUFSplitInput {
    static func parts(of artifact: Artifact) throws -> [GGUFModel.Part] {
        switch artifact.location {
        case .file(let path): return try parts(ofFile: path)
        case .stored(let v):
            guard let first = v.manifest.firstGGUF else { throw CommandFailure(message: "\(artifact.label) has no .gguf file in its manifest") }
            guard let part = GGUFSplit.parse(first.path) else { return [GGUFModel.Part(name: first.path, path: artifact.store.blobPath(first.sha256))] }
            let siblings = v.manifest.files.filter { GGUFSplit.parse($0.path).map { $0.stem == part.stem && $0.count == part.count } ?? false }
            let blobs = Dictionary(siblings.map { ($0.path, artifact.store.blobPath($0.sha256)) }, uniquingKeysWith: { a, _ in a })
            do {
                return try GGUFSplit.order(siblings.map(\.path)).map { GGUFModel.Part(name: $0, path: blobs[$0]!) }
            } catch {
                throw CommandFailure(message: "\(artifact.label): \(error); pull the model again")
            }
        case .folder: throw CommandFailure(message: "\(artifact.label) is a checkpoint folder, not a GGUF")
        }
    }

    /// A file on disk: itself, or when named as part 1 of several, every part from its folder.
    static func parts(ofFile path: String) throws -> [GGUFModel.Part] {
        let name = (path as NSString).lastPathComponent
        guard let part = GGUFSplit.parse(name), part.count > 1 else { return [GGUFModel.Part(name: name, path: path)] }
        let first = GGUFSplit.fileName(stem: part.stem, index: 1, count: part.count)
        guard part.index == 1 else {
            throw CommandFailure(message: "\(name) is part \(part.index) of a \(part.count)-part split GGUF; pass its first part, \(first)")
        }
        let dir = FileSystem.parent(of: path)
        let present = (1...part.count).map { GGUFSplit.fileName(stem: part.stem, index: $0, count: part.count) }
            .filter { FileManager.default.fileExists(atPath: dir + "/" + $0) }
        return try GGUFSplit.order(present).map { GGUFModel.Part(name: $0, path: dir + "/" + $0) }
    }
}
