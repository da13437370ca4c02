import Foundation
import DSMArtifacts
import DSMConvert
import DSMFormats
import DSMQuant
import DSMRegistry
import DSMStore
import DSMSystem

/// What `dsm quantize` reads: a GGUF model (a file, the first part of a split GGUF with its siblings beside it, or a
/// stored GGUF version, whose manifest may list a split GGUF's parts) or a safetensors checkpoint (a folder or a
/// pulled model), quantized in one pass.
enum QuantizeInput {
    /// `parts`: one file, or a split GGUF's parts in order (`GGUFSplitInput`).
    case gguf(parts: [GGUFModel.Part], name: ModelName?, digest: String?, base: ModelName?)
    case checkpoint(ConvertInput)

    /// A human name for messages and provenance.
    var label: String {
        switch self {
        case .gguf(let parts, let name, _, _): return name?.description ?? parts[0].path
        case .checkpoint(let c): return c.label
        }
    }

    /// Resolves SOURCE; nil means the most recently pulled model.
    static func resolve(_ source: String?, store: Store) throws -> QuantizeInput {
        let artifact = try ArtifactResolver(store: store).resolve(source, among: [.folder, .file, .stored], defaultToLatestPull: true)
        guard artifact.kind == .gguf else { return .checkpoint(try ConvertInput(artifact)) }
        return .gguf(parts: try GGUFSplitInput.parts(of: artifact), name: artifact.name, digest: artifact.version?.digest, base: artifact.baseName)
    }

    /// The name a store quantization registers: `<base>-<type>` (`local/<file stem>:<type>` for plain files, the
    /// stem without its part suffix for a split GGUF's).
    func registeredName(_ type: QuantFileType) throws -> ModelName {
        switch self {
        case .gguf(let parts, _, _, let base):
            let file = (parts[0].path as NSString).lastPathComponent
            let stem = GGUFSplit.parse(file)?.stem ?? (file as NSString).deletingPathExtension
            return try GGUFOutput.derivedName(base: base, localName: stem, suffix: type.tagSuffix)
        case .checkpoint(let c):
            return try GGUFOutput.derivedName(base: c.sourceName, localName: c.files.folderName, suffix: type.tagSuffix)
        }
    }

    /// The input's digest for provenance: its manifest digest when stored, else the file's SHA-256.
    func digest() throws -> String? {
        switch self {
        case .gguf(let parts, _, let d, _): return try d ?? FileHasher.sha256(path: parts[0].path)  // of part 1 when split
        case .checkpoint(let c): return c.sourceManifest
        }
    }
}
