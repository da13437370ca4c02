import Foundation
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
        case .checkpoint(let c): return c.sourceName?.description ?? c.directory
        }
    }

    /// Resolves SOURCE; nil means the most recently pulled model.
    static func resolve(_ source: String?, store: Store) throws -> QuantizeInput {
        guard let source else {
            guard let latest = latestPull(store) else {
                throw CommandFailure(message: "no model given and none pulled yet: run `dsm pull deepseek-r1:7b` first, or name a model or a .gguf file")
            }
            return try resolve(latest.description, store: store)
        }
        if FileSystem.isDirectory(source) { return .checkpoint(try ConvertInput.resolve(source, store: store)) }
        if FileSystem.exists(source) { return .gguf(path: FileSystem.absolute(source), name: nil, digest: nil, base: nil) }
        guard let found = try storedVersion(source, store: store) else {
            throw CommandFailure(message: "'\(source)' is neither a file, a folder nor a model in \(store.root); `dsm list` shows stored models")
        }
        let (name, manifest, digest) = (found.name, found.manifest, found.digest)
        if manifest.kind == "gguf" {
            guard let file = manifest.files.first(where: { $0.path.hasSuffix(".gguf") }) else {
                throw CommandFailure(message: "\(name) has no .gguf file in its manifest")
            }
            // A file made by `dsm convert` registers its quantizations under the checkpoint's name.
            let base = manifest.source.endpoint == "dsm convert" ? try? ModelName(parsing: manifest.source.repo) : nil
            return .gguf(path: store.blobPath(file.sha256), name: name, digest: digest, base: base ?? name)
        }
        return .checkpoint(try ConvertInput.resolve(source, store: store))
    }

    /// The newest pulled checkpoint (by manifest creation time).
    static func latestPull(_ store: Store) -> ModelName? {
        var best: (String, ModelName)?
        for name in store.names() {
            guard let (m, _) = try? store.manifest(for: name), m.kind != "gguf" else { continue }
            if best == nil || m.createdAt > best!.0 { best = (m.createdAt, name) }
        }
        return best?.1
    }

    /// The name a store quantization registers: `<base>-<type>` (`local/<file stem>:<type>` for plain files).
    func registeredName(_ type: QuantFileType) throws -> ModelName {
        switch self {
        case .gguf(let path, _, _, let base):
            return try GGUFOutput.derivedName(base: base, localName: ((path as NSString).lastPathComponent as NSString).deletingPathExtension,
                                              suffix: type.tagSuffix)
        case .checkpoint(let c):
            return try GGUFOutput.derivedName(base: c.sourceName, localName: (c.directory as NSString).lastPathComponent, suffix: type.tagSuffix)
        }
    }

    /// The input's digest for provenance: its manifest digest when stored, else the file's SHA-256.
    func digest() throws -> String {
        switch self {
        case .gguf(let path, _, let d, _): return try d ?? FileHasher.sha256(path: path)
        case .checkpoint(let c): return c.sourceManifest ?? "local"
        }
    }
}
