import DSMArtifacts
import DSMCatalog
import DSMFit
import DSMFormats
import DSMQuant
import DSMRegistry
import DSMStore
import DSMSystem
import Foundation

/// What `dsm fit` sizes: a stored GGUF (exact, from its tensors), a stored checkpoint (its config.json), a GGUF
/// file path, or a catalog entry (before anything is pulled).
struct FitInput {
    var label: String
    var source: String
    var shape: ModelShape
    /// The GGUF's own file type when the input is a GGUF (`Q4_K_M`).
    var ggufType: String?
    /// The catalog entry, for the reference hardware table and the download size.
    var catalog: Catalog.Match?
    /// Bytes still to download (0 when stored).
    var downloadBytes: Int64

    /// `remote` reads a Hub reference's GGUF headers over HTTP (nil when `text` is no Hub reference).
    static func resolve(_ text: String, store: Store, catalog: Catalog, remote: (String) throws -> FitInput? = { _ in nil }) throws -> FitInput {
        let found: Artifact?
        do { found = try ArtifactResolver(store: store).find(text, among: [.ggufFile, .stored]) } catch { throw CommandFailure(message: "\(error)") }
        if let found {
            guard let v = found.version else { return try fromGGUF(path: found.label, label: text, source: "GGUF file") }
            let parts = v.manifest.ggufParts
            if !parts.isEmpty {
                return try fromGGUF(paths: parts.map { store.blobPath($0.sha256) }, label: "\(v.name)@v\(v.number)", source: "stored GGUF")
            }
            return try fromCheckpoint(v, store: store, catalog: catalog)
        }
        if let fromHub = try remote(text) { return fromHub }
        let (body, _) = VersionSelector.split(text)
        let parts = body.split(separator: ":", maxSplits: 1).map(String.init)
        if let m = catalog.lookup(family: parts[0], tag: parts.count > 1 ? parts[1] : nil) {
            return try fromCatalog(m)
        }
        let close = catalog.suggestions(for: body)
        throw CommandFailure(message: "'\(text)' is neither a stored model, a .gguf file nor a catalog name"
                             + (close.isEmpty ? "" : " (did you mean \(close.prefix(3).joined(separator: ", "))?)") + "; `dsm catalog` lists models")
    }

    static func fromCatalog(_ m: Catalog.Match) throws -> FitInput {
        let e = m.entry
        guard let s = e.shape else {
            throw CommandFailure(message: "\(m.canonicalName): the catalog has no layer and attention facts for \(e.architecture) yet, so its memory cannot be computed")
        }
        let attention: ModelShape.Attention? = s.attention == "mla"
            ? s.kvLoraRank.flatMap { r in s.ropeDim.map { .mla(kvLoraRank: r, ropeDim: $0) } }
            : s.kvHeads.flatMap { h in s.headDim.map { .gqa(kvHeads: h, keyLength: $0, valueLength: $0) } }
        let shape = ModelShape(layers: s.layers, hiddenSize: s.hiddenSize, vocabSize: s.vocabSize, attention: attention,
                               parameters: e.parameters, activeParameters: e.activeParameters, contextLength: e.contextLength ?? 4096)
        return FitInput(label: m.canonicalName, source: "catalog, \(e.architecture)", shape: shape, ggufType: nil, catalog: m,
                        downloadBytes: e.downloadBytes)
    }

    static func fromGGUF(path: String, label: String, source: String) throws -> FitInput {
        try fromGGUF(paths: [path], label: label, source: source)
    }

    /// A GGUF on disk, single or split (all parts, in order).
    static func fromGGUF(paths: [String], label: String, source: String) throws -> FitInput {
        let files: [GGUFFile]
        do { files = try paths.map { try GGUFFile(path: $0) } } catch { throw CommandFailure(message: "\(error)") }
        return try fromGGUF(value: files[0].value, tensors: files.flatMap(\.tensors), label: label, source: source, downloadBytes: 0)
    }

    /// Exact sizes from the tensors of every part; metadata from the first part. `downloadBytes` is what a pull would
    /// still fetch (headers read over HTTP before pulling), 0 for stored models.
    static func fromGGUF(value: (String) -> GGUFValue?, tensors: [GGUFTensorInfo], label: String, source: String,
                         downloadBytes: Int64) throws -> FitInput {
        guard case .string(let arch)? = value("general.architecture") else {
            throw CommandFailure(message: "\(label): the GGUF has no general.architecture")
        }
        func int(_ key: String) -> Int? {
            switch value("\(arch).\(key)") {
            case .uint32(let v)?: return Int(v)
            case .int32(let v)?: return Int(v)
            case .uint64(let v)?: return Int(v)
            case .array(_, let a)?: if case .uint32(let v)? = a.first { return Int(v) } else if case .int32(let v)? = a.first { return Int(v) }; return nil
            default: return nil
            }
        }
        var layerBytes: [Int: Int64] = [:]
        var other: Int64 = 0, params: Int64 = 0
        for t in tensors {
            params += Int64(t.elementCount)
            let parts = t.name.split(separator: ".")
            if parts.count > 2, parts[0] == "blk", let n = Int(parts[1]) { layerBytes[n, default: 0] += Int64(t.byteCount) } else { other += Int64(t.byteCount) }
        }
        let layers = int("block_count") ?? layerBytes.count
        let hidden = int("embedding_length") ?? 0
        let heads = int("attention.head_count") ?? 1
        var vocab = 0
        if case .array(_, let tokens)? = value("tokenizer.ggml.tokens") { vocab = tokens.count }
        let attention: ModelShape.Attention?
        if let rank = int("attention.kv_lora_rank"), let rope = int("rope.dimension_count") {
            attention = .mla(kvLoraRank: rank, ropeDim: rope)
        } else if let kv = int("attention.head_count_kv") ?? int("attention.head_count"), hidden > 0 {
            let k = int("attention.key_length") ?? hidden / max(1, heads)
            attention = .gqa(kvHeads: kv, keyLength: k, valueLength: int("attention.value_length") ?? k)
        } else {
            attention = nil
        }
        var type: String?
        if case .uint32(let ft)? = value("general.file_type") {
            type = QuantFileType.allCases.first { $0.fileType.rawValue == ft }?.rawValue
        }
        let shape = ModelShape(layers: layers, hiddenSize: hidden, vocabSize: vocab, attention: attention, parameters: params,
                               activeParameters: nil, contextLength: int("context_length") ?? 4096,
                               ggufLayerBytes: (0..<layers).map { layerBytes[$0] ?? 0 }, ggufOtherBytes: other)
        return FitInput(label: label, source: "\(source), \(arch)" + (type.map { ", \($0)" } ?? ""), shape: shape, ggufType: type,
                        catalog: nil, downloadBytes: downloadBytes)
    }

    /// A pulled checkpoint: the catalog entry of its repo when there is one, else its config.json and file sizes.
    static func fromCheckpoint(_ v: ResolvedVersion, store: Store, catalog: Catalog) throws -> FitInput {
        if let m = catalog.allEntries().first(where: { $0.entry.repo == v.manifest.source.repo }), m.entry.shape != nil {
            var input = try fromCatalog(m)
            input.label = "\(v.name)@v\(v.number)"
            input.source = "stored checkpoint, \(m.entry.architecture)"
            input.downloadBytes = 0
            return input
        }
        guard let cfg = v.manifest.files.first(where: { $0.path == "config.json" }) else {
            throw CommandFailure(message: "\(v.name) has no config.json to size it from")
        }
        let c: [String: Any]
        do { c = try JSONSerialization.jsonObject(with: Data(FileSystem.readAll(store.blobPath(cfg.sha256)))) as? [String: Any] ?? [:] } catch {
            throw CommandFailure(message: "\(v.name): config.json: \(error)")
        }
        func int(_ k: String) -> Int? { (c[k] as? NSNumber)?.intValue }
        let hidden = int("hidden_size") ?? 0, heads = int("num_attention_heads") ?? 1
        let attention: ModelShape.Attention? = int("kv_lora_rank").flatMap { r in int("qk_rope_head_dim").map { .mla(kvLoraRank: r, ropeDim: $0) } }
            ?? int("num_key_value_heads").map { .gqa(kvHeads: $0, keyLength: int("head_dim") ?? hidden / max(1, heads), valueLength: int("head_dim") ?? hidden / max(1, heads)) }
        let weights = v.manifest.files.filter { $0.path.hasSuffix(".safetensors") }.reduce(Int64(0)) { $0 + $1.size }
        let bytesPerParam: Int64 = (c["torch_dtype"] as? String ?? c["dtype"] as? String) == "float32" ? 4 : 2
        let shape = ModelShape(layers: int("num_hidden_layers") ?? 1, hiddenSize: hidden, vocabSize: int("vocab_size") ?? 0,
                               attention: attention, parameters: weights / bytesPerParam, activeParameters: nil,
                               contextLength: int("max_position_embeddings") ?? 4096)
        return FitInput(label: "\(v.name)@v\(v.number)", source: "stored checkpoint, config.json", shape: shape, ggufType: nil, catalog: nil,
                        downloadBytes: 0)
    }
}
