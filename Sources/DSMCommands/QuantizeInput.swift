import Foundation
import DSMArtifacts
import DSMConvert
import DSMFormats
import DSMQuant
import DSMRegistry
import DSMStore
import DSMSystem

/// What `dsm quantize` reads: a GGUF file (a path or a stored GGUF model) or a safetensors checkpoint
/// (a folder or a pulled model), quantized in one pass.
enum QuantizeInput {
    case gguf(path: String, name: ModelName?, digest: String?, base: ModelName?)
    case checkpoint(ConvertInput)

    /// A human name for messages and provenance.
    var label: String {
        switch self {
        case .gguf(let path, let name, _, _): return name?.description ?? path
        case .checkpoint(let c): return c.label
        }
    }

    /// Resolves SOURCE; nil means the most recently pulled model.
    static func resolve(_ source: String?, store: Store) throws -> QuantizeInput {
        let artifact = try ArtifactResolver(store: store).resolve(source, among: [.folder, .file, .stored], defaultToLatestPull: true)
        guard artifact.kind == .gguf else { return .checkpoint(try ConvertInput(artifact)) }
        guard let path = artifact.ggufPath else { throw CommandFailure(message: "\(artifact.label) has no .gguf file in its manifest") }
        return .gguf(path: path, name: artifact.name, digest: artifact.version?.digest, base: artifact.baseName)
    }

    /// The name a store quantization registers: `<base>-<type>` (`local/<file stem>:<type>` for plain files).
    func registeredName(_ type: QuantFileType) throws -> ModelName {
        switch self {
        case .gguf(let path, _, _, let base):
            return try GGUFOutput.derivedName(base: base, localName: ((path as NSString).lastPathComponent as NSString).deletingPathExtension,
                                              suffix: type.tagSuffix)
        case .checkpoint(let c):
            return try GGUFOutput.derivedName(base: c.sourceName, localName: c.files.folderName, suffix: type.tagSuffix)
        }
    }

    /// The input's digest for provenance: its manifest digest when stored, else the file's SHA-256.
    func digest() throws -> String? {
        switch self {
        case .gguf(let path, _, let d, _): return try d ?? FileHasher.sha256(path: path)
        case .checkpoint(let c): return c.sourceManifest
        }
    }
}
