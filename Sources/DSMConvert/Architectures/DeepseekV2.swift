import DSMFormats
import DSMTensors

/// DeepseekV2ForCausalLM and DeepseekV3ForCausalLM (V2-Lite, V2.5, Coder-V2, V3, V3.1, R1) → `deepseek2`:
/// multi-head latent attention with `kv_b_proj` split into `attn_k_b` (transposed) and `attn_v_b`, routed
/// experts stacked per layer, shared experts, the router and V3's score-correction bias, dense first layers,
/// FP8 weights dequantized with their block scales, and multi-token-prediction layers skipped.
public struct DeepseekV2Architecture: ModelArchitecture {
    public static let huggingFaceNames = ["DeepseekV2ForCausalLM", "DeepseekV3ForCausalLM"]
    public let ggufName = "deepseek2"
    let context: ConversionContext

    public init(context: ConversionContext) throws { self.context = context }

    public func parameters() throws -> [GGUFKeyValue] {
        let c = context.config
        var adjusted = c.values
        adjusted["num_key_value_heads"] = 1  // MLA is written as MQA
        if adjusted["rms_norm_eps"] == nil { adjusted["rms_norm_eps"] = 1e-6 }
        let config = HFConfig(values: adjusted)
        let blocks = try c.requireInt("num_hidden_layers")
        var keys = KeyList(try TextModelParameters(arch: ggufName, config: config).keys(blockCount: blocks, fileType: context.fileType))
        func u32(_ k: String, _ v: Int) { keys.set("\(ggufName).\(k)", .uint32(UInt32(v))) }
        let hasMoE = c.int("n_routed_experts") != nil
        u32("leading_dense_block_count", c.int("first_k_dense_replace") ?? (hasMoE ? 0 : blocks))
        u32("vocab_size", try c.requireInt("vocab_size"))
        if let q = c.int("q_lora_rank") { u32("attention.q_lora_rank", q) }
        let kvLora = c.int("kv_lora_rank") ?? 512
        let rope = try c.requireInt("qk_rope_head_dim"), nope = try c.requireInt("qk_nope_head_dim"), v = try c.requireInt("v_head_dim")
        u32("attention.kv_lora_rank", kvLora)
        u32("attention.key_length", kvLora + rope)
        u32("attention.value_length", kvLora)
        u32("attention.key_length_mla", nope + rope)
        u32("attention.value_length_mla", v)
        u32("expert_feed_forward_length", try c.requireInt("moe_intermediate_size", "intermediate_size"))
        if let n = c.int("n_routed_experts") { u32("expert_count", n) }
        u32("expert_shared_count", c.int("n_shared_experts") ?? 0)
        if let s = c.double("routed_scaling_factor") { keys.set("\(ggufName).expert_weights_scale", .float32(Float(s))) }
        if c.bool("norm_topk_prob") == true { keys.set("\(ggufName).expert_weights_norm", .bool(true)) }
        u32("rope.dimension_count", rope)
        if let m = HFConfig.double(TextModelParameters(arch: ggufName, config: c).ropeParameters["mscale_all_dim"]) {
            keys.set("\(ggufName).rope.scaling.yarn_log_multiplier", .float32(Float(0.1 * m)))
        }
        return keys.items
    }

    public func tensors() throws -> [PlannedTensor] {
        let c = context.config
        let blocks = try c.requireInt("num_hidden_layers")
        let tied = c.bool("tie_word_embeddings") == true
        let nExperts = c.int("n_routed_experts") ?? 0
        let heads = try c.requireInt("num_key_value_heads")  // the config value: the split happens before it becomes 1
        let nope = try c.requireInt("qk_nope_head_dim"), vDim = try c.requireInt("v_head_dim")
        let fp8Block = DeepseekV2Architecture.fp8BlockSize(c)
        var experts: [Int: [String: any RowSource]] = [:]
        var out: [PlannedTensor] = []
        for entry in context.checkpoint.entries {
            let name = entry.tensor.name
            if name.hasSuffix("_scale_inv") || name.hasSuffix(".activation_scale") || name.hasSuffix("_activation_scale") { continue }
            if tied && (name == "lm_head.weight" || name == "model.lm_head.weight") { continue }
            if let layer = TensorNames.blockIndex(name), layer >= blocks { continue }  // MTP layers
            let source = try matrix(entry, fp8Block: fp8Block)
            if name.contains("mlp.experts."), let layer = TensorNames.blockIndex(name) {
                guard nExperts > 0 else { throw ConvertError("\(name) is a routed expert but config.json has no n_routed_experts") }
                experts[layer, default: [:]][name] = source
                guard experts[layer]!.count >= nExperts * 3 else { continue }
                for part in ["down_proj", "gate_proj", "up_proj"] {
                    let parts = try (0..<nExperts).map { x -> any RowSource in
                        guard let s = experts[layer]!["model.layers.\(layer).mlp.experts.\(x).\(part).weight"] else {
                            throw ConvertError("layer \(layer) lacks expert \(x) \(part)")
                        }
                        return s
                    }
                    let stacked = StackedRows(parts)
                    let ggml = "blk.\(layer).ffn_\(part.dropLast(5))_exps.weight"
                    out.append(PlannedTensor(name: ggml, dimensions: [stacked.rowLength, stacked.rowsPerPart, nExperts],
                                             type: context.storageType(ggml, dimensions: 3), source: stacked))
                }
                experts[layer] = nil
                continue
            }
            if name.hasSuffix("kv_b_proj.weight"), let layer = TensorNames.blockIndex(name) {
                out += try splitKVB(source, layer: layer, heads: heads, nope: nope, vDim: vDim)
                continue
            }
            guard let mapped = TensorNames.map(name) else { throw ConvertError("cannot map tensor '\(name)' to a GGUF name") }
            out.append(context.direct(entry, name: mapped, source: source))
        }
        if let left = experts.first(where: { !$0.value.isEmpty }) {
            throw ConvertError("layer \(left.key) has \(left.value.count) expert tensors, expected \(nExperts * 3); the checkpoint is incomplete")
        }
        return out
    }

    /// Splits `kv_b_proj` [heads·(nope+v), kv_lora] into `attn_k_b` (ne [nope, kv_lora, heads], element
    /// (c, r, h) = W[h(nope+v)+c, r]) and `attn_v_b` (ne [kv_lora, v, heads], rows W[h(nope+v)+nope+c]).
    func splitKVB(_ w: any MatrixSource, layer: Int, heads: Int, nope: Int, vDim: Int) throws -> [PlannedTensor] {
        let per = nope + vDim
        guard w.rowCount == heads * per else { throw ConvertError("kv_b_proj of layer \(layer) has \(w.rowCount) rows, expected \(heads) × \(per)") }
        let kvLora = w.rowLength
        let kb = GatheredRows(rowLength: nope, rowCount: heads * kvLora) { row, c in
            let h = row / kvLora, r = row % kvLora
            return w.value(h * per + c, r)
        }
        let vb = GatheredRows(rowLength: kvLora, rowCount: heads * vDim) { row, col in
            let h = row / vDim, c = row % vDim
            return w.value(h * per + nope + c, col)
        }
        let kName = "blk.\(layer).attn_k_b.weight", vName = "blk.\(layer).attn_v_b.weight"
        return [PlannedTensor(name: kName, dimensions: [nope, kvLora, heads], type: context.storageType(kName, dimensions: 3), source: kb),
                PlannedTensor(name: vName, dimensions: [kvLora, vDim, heads], type: context.storageType(vName, dimensions: 3), source: vb)]
    }

    /// A tensor as a matrix source, dequantized when it is FP8 with a `_scale_inv` companion.
    func matrix(_ entry: SafetensorsCheckpoint.Entry, fp8Block: [Int]?) throws -> any MatrixSource {
        let t = entry.tensor
        if t.dtype == .f8e4m3 {
            guard let block = fp8Block, let scale = context.checkpoint.entry(t.name + "_scale_inv") else {
                throw ConvertError("\(t.name) is F8_E4M3 without a weight_scale_inv and a quantization_config weight_block_size")
            }
            return try FP8Rows(weight: context.checkpoint.data(entry), shape: t.shape, scales: context.checkpoint.data(scale),
                               scaleShape: scale.tensor.shape, scaleDtype: scale.tensor.dtype, block: block, owner: context.checkpoint)
        }
        guard t.dtype.isConvertibleFloat else { throw ConvertError("tensor \(t.name) has unsupported dtype \(t.dtype.rawValue)") }
        return context.rows(entry)
    }

    static func fp8BlockSize(_ c: HFConfig) -> [Int]? {
        guard let q = c.dict("quantization_config"), q["quant_method"] as? String == "fp8" else { return nil }
        return (q["weight_block_size"] as? [Any])?.compactMap(HFConfig.int)
    }
}

/// A KV list where setting an existing key replaces its value in place, as gguf-py's writer does.
struct KeyList {
    private(set) var items: [GGUFKeyValue]
    init(_ items: [GGUFKeyValue]) { self.items = items }
    mutating func set(_ key: String, _ value: GGUFValue) {
        if let i = items.firstIndex(where: { $0.key == key }) { items[i].value = value } else { items.append(GGUFKeyValue(key, value)) }
    }
}
