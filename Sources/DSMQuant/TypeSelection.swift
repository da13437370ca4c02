import DSMFormats

/// The facts about a model that llama-quantize's type choice depends on.
public struct ModelFacts: Sendable, Equatable {
    public var architecture: String
    public var layerCount: Int
    public var expertCount: Int
    public var headCount: Int
    public var headCountKV: Int

    public init(architecture: String, layerCount: Int, expertCount: Int = 0, headCount: Int = 0, headCountKV: Int = 0) {
        self.architecture = architecture
        self.layerCount = layerCount
        self.expertCount = expertCount
        self.headCount = headCount
        self.headCountKV = headCountKV
    }

    /// llama.cpp's `LLM_TYPE_70B` (the only model size the mixes look at): Llama with 80 layers and grouped KV
    /// heads (R1-Distill-Llama-70B), or an 80-layer Qwen2 / Deci / OLMo, or a 68-layer Jais2.
    public var is70B: Bool {
        switch architecture {
        case "llama": return layerCount == 80 && headCount != headCountKV
        case "qwen2", "deci", "olmo": return layerCount == 80
        case "jais2": return layerCount == 68
        default: return false
        }
    }
}

/// One tensor as type selection sees it: name, ggml dimensions (ne), current type.
public struct TensorDescriptor: Sendable, Equatable {
    public var name: String
    public var dimensions: [Int]
    public var type: GGMLType
    public init(name: String, dimensions: [Int], type: GGMLType) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
    }
}

/// The outcome for one tensor.
public struct TypeChoice: Sendable, Equatable {
    public var type: GGMLType
    /// The mix wanted a type whose block does not divide the row length (`tensor_type_fallback`).
    public var fallback: (wanted: GGMLType, reason: String)?
    public static func == (a: TypeChoice, b: TypeChoice) -> Bool { a.type == b.type && a.fallback?.wanted == b.fallback?.wanted }
}

/// llama-quantize's per-tensor type choice (`llama_tensor_get_type` in src/llama-quant.cpp) for the file types
/// dsm writes, without imatrix or overrides. Pure: tensors must come in the order llama-quantize visits them
/// (`TensorOrder`), because the attn_v and ffn_down counters depend on it.
public struct TypeSelection: Sendable {
    public let fileType: QuantFileType
    public let facts: ModelFacts

    public init(fileType: QuantFileType, facts: ModelFacts) {
        self.fileType = fileType
        self.facts = facts
    }

    /// The type of every tensor, in the given order.
    public func choose(_ tensors: [TensorDescriptor]) throws -> [TypeChoice] {
        var state = Counters()
        for t in tensors {
            let c = TensorCategory(name: t.name)
            if c.isAttentionV { state.nAttentionV += 1 }
            if c == .output { state.tied = false }
        }
        return try tensors.map { t in
            guard Self.allowsQuantization(t) else { return TypeChoice(type: t.type) }
            let base = fileType.defaultType
            guard base.isQuantized else { return TypeChoice(type: base) }
            let mixed = try mixType(t, TensorCategory(name: t.name), &state)
            return fallback(t, mixed)
        }
    }

    struct Counters {
        var nAttentionV = 0, iAttentionV = 0, iFFNDown = 0, iFFNGate = 0, iFFNUp = 0
        var tied = true
    }

    /// `tensor_allows_quantization`: 2-D and 3-D weights only, never norms, routers and a list of small tensors.
    public static func allowsQuantization(_ t: TensorDescriptor) -> Bool {
        guard nDims(t.dimensions) >= 2, t.name.hasSuffix("weight") else { return false }
        let never = ["_norm.weight", "ffn_gate_inp.weight", "ffn_gate_tid2eid.weight", "altup", "laurel", "per_layer_model_proj",
                     "ssm_conv1d", "shortconv.conv.weight", "indexer.k_proj.weight", "indexer.q_proj.weight",
                     "time_mix_first.weight", "time_mix_w0.weight", "time_mix_w1.weight", "time_mix_w2.weight",
                     "time_mix_v0.weight", "time_mix_v1.weight", "time_mix_v2.weight", "time_mix_a0.weight",
                     "time_mix_a1.weight", "time_mix_a2.weight", "time_mix_g1.weight", "time_mix_g2.weight",
                     "time_mix_decay_w1.weight", "time_mix_decay_w2.weight", "time_mix_lerp_fused.weight",
                     "attn_rel_b.weight", ".position_embd", "sam.pos_embd", "sam.neck.", "sam.net_", ".rel_pos",
                     ".patch_embd", ".patch_merger", "a.rvq.codebook", "mm.a.code_embd"]
        if never.contains(where: { t.name.contains($0) }) { return false }
        return t.name != "position_embd.weight" && t.name != "token_types.weight"
    }

    /// `ggml_n_dims`: dimensions up to the last one larger than 1 (at least 1).
    public static func nDims(_ ne: [Int]) -> Int {
        var n = ne.count
        while n > 1 && ne[n - 1] == 1 { n -= 1 }
        return max(1, n)
    }

    static func useMoreBits(_ i: Int, _ n: Int) -> Bool { i < n / 8 || i >= 7 * n / 8 || (i - n / 8) % 3 == 2 }

    /// `llama_tensor_get_type_impl` for the mixes dsm writes.
    func mixType(_ t: TensorDescriptor, _ category: TensorCategory, _ s: inout Counters) throws -> GGMLType {
        var type = fileType.defaultType
        let falcon = facts.architecture == "falcon"
        let nExpert = facts.expertCount
        func layer(_ counter: Int) throws -> (Int, Int) {
            let n = facts.layerCount
            guard max(1, nExpert) > 1 else { return (counter, n) }
            guard let i = TensorOrder.layer(of: t.name) else { throw QuantizeError("cannot tell the layer of tensor \(t.name)") }
            guard i >= 0 && i < n else { throw QuantizeError("tensor \(t.name) is in layer \(i), but the model has \(n) layers") }
            return (i, n)
        }
        if category == .output || (s.tied && category == .tokenEmbedding) {
            if falcon || t.dimensions[0] % type.blockSize != 0 {
                type = .q8_0
            } else if type != .q8_0 {
                type = .q6_K
            }
        } else if category == .tokenEmbedding {
            // untied token embedding: the mix's default type
        } else if category.isAttentionV {
            if (fileType == .q4_K_M || fileType == .q5_K_M) && Self.useMoreBits(s.iAttentionV, s.nAttentionV) {
                type = .q6_K
            } else if fileType == .q4_K_S && s.iAttentionV < 4 {
                type = .q5_K
            }
            if facts.is70B && (type == .q3_K || type == .q4_K) { type = .q5_K }
            if nExpert == 8 { type = .q8_0 }
            s.iAttentionV += 1
        } else if category == .attentionK {
            if nExpert == 8 { type = .q8_0 }
        } else if category == .ffnDown {
            let (i, n) = try layer(s.iFFNDown)
            if fileType == .q4_K_M {
                if falcon {
                    type = i < n / 16 ? .q6_K : (Self.useMoreBits(i, n) ? .q5_K : .q4_K)
                } else if Self.useMoreBits(i, n) {
                    type = .q6_K
                }
            } else if fileType == .q5_K_M && Self.useMoreBits(i, n) {
                type = .q6_K
            } else if fileType == .q4_K_S && !falcon && i < n / 8 {
                type = .q5_K
            }
            s.iFFNDown += 1
        } else if category == .attentionOutput {
            if !falcon && nExpert == 8 && (fileType == .q4_K_S || fileType == .q4_K_M) { type = .q5_K }
        } else if category == .attentionQKV {
            if fileType == .q4_K_M { type = .q5_K } else if fileType == .q5_K_M { type = .q6_K }
        } else if category == .ffnGate {
            _ = try layer(s.iFFNGate)
            s.iFFNGate += 1
        } else if category == .ffnUp {
            _ = try layer(s.iFFNUp)
            s.iFFNUp += 1
        }
        return type
    }

    /// `tensor_type_fallback`: a smaller-block type when the row length is not a multiple of the block.
    func fallback(_ t: TensorDescriptor, _ wanted: GGMLType) -> TypeChoice {
        let ne0 = t.dimensions[0]
        guard ne0 % wanted.blockSize != 0 else { return TypeChoice(type: wanted) }
        var type: GGMLType
        switch wanted {
        case .q2_K, .q3_K: type = .q4_0
        case .q4_K: type = .q5_0
        case .q5_K: type = .q5_1
        case .q6_K: type = .q8_0
        default: type = wanted
        }
        var reason = "row length \(ne0) is not a multiple of \(wanted.blockSize)"
        if ne0 % type.blockSize != 0 {
            type = .f16
            reason += " (nor of 32)"
        }
        return TypeChoice(type: type, fallback: (wanted, reason))
    }
}

/// llama-quantize's broad tensor categories (`tensor_get_category`): first match wins.
public enum TensorCategory: Sendable, Equatable {
    case output, tokenEmbedding, attentionQKV, attentionKVB, attentionV, attentionK, attentionQ, attentionOutput
    case ffnUp, ffnGate, ffnDown, other

    public init(name: String) {
        if name == "output.weight" { self = .output }
        else if name == "token_embd.weight" || name == "per_layer_token_embd.weight" { self = .tokenEmbedding }
        else if name.contains("attn_qkv.weight") { self = .attentionQKV }
        else if name.contains("attn_kv_b.weight") { self = .attentionKVB }
        else if name.contains("attn_v.weight") { self = .attentionV }
        else if name.contains("attn_k.weight") { self = .attentionK }
        else if name.contains("attn_q.weight") { self = .attentionQ }
        else if name.contains("attn_output.weight") { self = .attentionOutput }
        else if name.contains("ffn_up") { self = .ffnUp }
        else if name.contains("ffn_gate") { self = .ffnGate }
        else if name.contains("ffn_down") { self = .ffnDown }
        else { self = .other }
    }

    /// V, QKV and KV_B: the tensors most sensitive to quantization.
    public var isAttentionV: Bool { self == .attentionV || self == .attentionQKV || self == .attentionKVB }
}
