import DSMRegistry
import DSMStore
import DSMSystem

/// A model a command reads, whatever the user named: a stored version, a checkpoint folder or a GGUF file.
public struct Artifact: Sendable {
    /// Where it is.
    public enum Location: Sendable {
        /// A version in the store; its files are blobs.
        case stored(ResolvedVersion)
        /// A Hugging Face checkpoint folder on disk (absolute path, no trailing slash).
        case folder(String)
        /// A file on disk, read as GGUF (absolute path).
        case file(String)
    }

    public var location: Location
    /// The store the blobs of a stored version are in.
    public var store: Store

    /// What it holds: a stored version says so in its manifest; a folder is a checkpoint, a file a GGUF.
    public var kind: Manifest.Kind {
        switch location {
        case .stored(let v): return v.manifest.kind
        case .folder: return .checkpoint
        case .file: return .gguf
        }
    }

    /// The stored version, if it is one.
    public var version: ResolvedVersion? {
        if case .stored(let v) = location { return v }
        return nil
    }

    /// The stored name (without selector), nil for paths.
    public var name: ModelName? { version?.name }

    /// How messages and provenance call it: the stored name, else the path.
    public var label: String {
        switch location {
        case .stored(let v): return v.name.description
        case .folder(let p), .file(let p): return p
        }
    }

    /// The GGUF file to read: the file itself, or the stored GGUF version's blob. Nil for checkpoints.
    public var ggufPath: String? {
        switch location {
        case .file(let p): return p
        case .stored(let v): return v.manifest.kind == .gguf ? v.manifest.firstGGUF.map { store.blobPath($0.sha256) } : nil
        case .folder: return nil
        }
    }

    /// For a stored checkpoint: each file's path in the checkpoint to its blob. Nil for folders and files.
    public var blobsByPath: [String: String]? {
        guard let v = version else { return nil }
        var map: [String: String] = [:]
        for f in v.manifest.files { map[f.path] = store.blobPath(f.sha256) }
        return map
    }

    /// The name results made from this artifact register under: a GGUF converted from a stored checkpoint lends
    /// that checkpoint's name (so `X-bf16` quantizes to `X-q4_K_M`, not `X-bf16-q4_K_M`), else its own name.
    public var baseName: ModelName? {
        guard let v = version else { return nil }
        return v.manifest.provenance.convertedFromName ?? v.name
    }
}
