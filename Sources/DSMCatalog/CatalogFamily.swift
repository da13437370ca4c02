import Foundation

/// One file of `registry/`: a model family and its tags (format documented in docs/catalog.md).
public struct CatalogFamily: Codable, Equatable, Sendable {
    /// The catalog file format this dsm reads.
    public static let schemaVersion = 1

    public var schema: Int
    public var family: String
    public var title: String?
    public var description: String?
    public var defaultTag: String
    public var aliases: [String: String]
    public var tags: [String: CatalogEntry]

    enum CodingKeys: String, CodingKey {
        case schema, family, title, description, defaultTag = "default_tag", aliases, tags
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schema = try c.decode(Int.self, forKey: .schema)
        family = try c.decode(String.self, forKey: .family)
        title = try c.decodeIfPresent(String.self, forKey: .title)
        description = try c.decodeIfPresent(String.self, forKey: .description)
        defaultTag = try c.decodeIfPresent(String.self, forKey: .defaultTag) ?? "latest"
        aliases = try c.decodeIfPresent([String: String].self, forKey: .aliases) ?? [:]
        tags = try c.decode([String: CatalogEntry].self, forKey: .tags)
    }

    /// Follows aliases from `tag` (or the default tag) to a real tag; nil when unknown or cyclic.
    public func resolve(tag: String?) -> String? {
        var current = tag ?? defaultTag
        var seen: Set<String> = []
        while tags[current] == nil {
            guard let next = aliases[current], seen.insert(current).inserted else { return nil }
            current = next
        }
        return current
    }

    /// Aliases that lead to `tag`.
    public func aliases(of tag: String) -> [String] {
        aliases.keys.filter { resolve(tag: $0) == tag }.sorted()
    }
}

/// One tag of a family: a Hugging Face checkpoint and what it needs.
public struct CatalogEntry: Codable, Equatable, Sendable {
    public var repo: String
    public var revision: String
    public var architecture: String
    public var baseModel: String?
    public var parameters: Int64
    public var activeParameters: Int64?
    public var sourceDtype: String
    public var downloadBytes: Int64
    public var contextLength: Int?
    /// The attention and size facts `dsm fit` computes memory from (nil when not published yet).
    public var shape: Shape?
    public var defaultQuantization: String
    public var convertible: Bool
    public var hardware: Hardware
    public var ollamaTag: String?
    public var notes: String?
    /// A ready-made GGUF of this tag in a well-known repo, when there is one (shown by `dsm catalog`).
    public var gguf: GGUFSource?
    /// `gguf` when `dsm pull family:tag` takes the GGUF source rather than the checkpoint (tags that exist only as
    /// quantizations, such as `671b-ud-iq1_s`); nil or `checkpoint` otherwise.
    public var pull: String?

    /// Whether a pull of this tag downloads its GGUF source.
    public var pullsGGUF: Bool { pull == "gguf" && gguf != nil }

    /// One quantization in a GGUF repo: `repo` at `revision`, the files the tag `tag` picks (see docs/pull.md), and
    /// their size as the repo's publisher states it.
    public struct GGUFSource: Codable, Equatable, Sendable {
        public var repo: String
        public var revision: String
        public var tag: String
        public var bytes: Int64
        public var parts: Int?
    }

    /// Layers, sizes and attention of the model's config.json: grouped-query attention (`kv_heads` × `head_dim` per
    /// layer in the KV cache) or DeepSeek's multi-head latent attention (`kv_lora_rank` + `rope_dim` per layer).
    public struct Shape: Codable, Equatable, Sendable {
        public var layers: Int
        public var hiddenSize: Int
        public var vocabSize: Int
        /// `gqa` or `mla`.
        public var attention: String
        public var kvHeads: Int?
        public var headDim: Int?
        public var kvLoraRank: Int?
        public var ropeDim: Int?

        enum CodingKeys: String, CodingKey {
            case layers, hiddenSize = "hidden_size", vocabSize = "vocab_size", attention, kvHeads = "kv_heads", headDim = "head_dim"
            case kvLoraRank = "kv_lora_rank", ropeDim = "rope_dim"
        }
    }

    /// Minimum recommendations from the reference hardware table.
    public struct Hardware: Codable, Equatable, Sendable {
        public var paramsClass: String
        public var cpuCores: Int
        public var ramGB: Int
        public var gpuVramGB: Int
        public var gpuExample: String?
        public var gpuCount: Int
        public var diskGB: Int

        enum CodingKeys: String, CodingKey {
            case paramsClass = "params_class", cpuCores = "cpu_cores", ramGB = "ram_gb", gpuVramGB = "gpu_vram_gb"
            case gpuExample = "gpu_example", gpuCount = "gpu_count", diskGB = "disk_gb"
        }
    }

    enum CodingKeys: String, CodingKey {
        case repo, revision, architecture, baseModel = "base_model", parameters, activeParameters = "active_parameters"
        case sourceDtype = "source_dtype", downloadBytes = "download_bytes", contextLength = "context_length", shape
        case defaultQuantization = "default_quantization", convertible, hardware, ollamaTag = "ollama_tag", notes, gguf, pull
    }
}
