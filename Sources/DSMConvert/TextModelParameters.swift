import DSMFormats

/// The hyper-parameter keys every decoder-only text model gets, in llama.cpp's order
/// (`TextModel.set_gguf_parameters`), up to and including `general.file_type`.
struct TextModelParameters {
    let arch: String
    let config: HFConfig

    func kv(_ key: String, _ value: GGUFValue) -> GGUFKeyValue { GGUFKeyValue("\(arch).\(key)", value) }

    /// `rope_parameters` (or `rope_scaling`), completed with the top-level rope settings the way the
    /// converter mirrors them.
    var ropeParameters: [String: Any] {
        var p = (config.values["rope_parameters"] as? [String: Any]) ?? (config.values["rope_scaling"] as? [String: Any]) ?? [:]
        if p["full_attention"] == nil && p["sliding_attention"] == nil {
            if p["rope_theta"] == nil, let theta = config.find(["global_rope_theta", "rope_global_theta", "rope_theta_global", "rope_theta", "rotary_emb_base"]) {
                p["rope_theta"] = theta
            }
            if p["rope_type"] == nil, let t = p["type"] { p["rope_type"] = t }
            if p["partial_rotary_factor"] == nil, let f = config.find(["partial_rotary_factor", "rope_pct", "rope_percent"]) { p["partial_rotary_factor"] = f }
            if p["original_max_position_embeddings"] == nil, let o = config.find(["original_max_position_embeddings"]) {
                p["original_max_position_embeddings"] = o
            }
        }
        return p
    }

    func keys(blockCount: Int, fileType: GGUFFileType) throws -> [GGUFKeyValue] {
        var out: [GGUFKeyValue] = [kv("block_count", .uint32(UInt32(blockCount)))]
        func u32(_ key: String, _ names: [String]) {
            if let v = HFConfig.int(config.find(names)) { out.append(kv(key, .uint32(UInt32(v)))) }
        }
        u32("context_length", ["max_position_embeddings", "n_ctx", "n_positions", "max_length", "max_sequence_length", "model_max_length"])
        u32("embedding_length", ["hidden_size", "n_embd", "dim"])
        u32("feed_forward_length", ["prefix_dense_intermediate_size", "dense_intermediate_size", "intermediate_size", "n_inner", "hidden_dim"])
        u32("attention.head_count", ["num_attention_heads", "n_head", "n_heads"])
        u32("attention.head_count_kv", ["num_key_value_heads", "n_kv_heads"])
        if config.bool("is_causal") == false { out.append(kv("attention.causal", .bool(false))) }

        let rope = ropeParameters
        let ropeParams = (rope["full_attention"] as? [String: Any]) ?? rope
        if let type = ropeParams["rope_type"] as? String {
            let factor = HFConfig.double(ropeParams["factor"])
            switch type {
            case "linear" where factor != nil:
                out.append(kv("rope.scaling.type", .string("linear")))
                out.append(kv("rope.scaling.factor", .float32(Float(factor!))))
            case "yarn" where factor != nil:
                out.append(kv("rope.scaling.type", .string("yarn")))
                out.append(kv("rope.scaling.factor", .float32(Float(factor!))))
                guard let orig = HFConfig.int(ropeParams["original_max_position_embeddings"]) else {
                    throw ConvertError("yarn rope scaling without original_max_position_embeddings")
                }
                out.append(kv("rope.scaling.original_context_length", .uint32(UInt32(orig))))
                if let v = HFConfig.double(ropeParams["extrapolation_factor"]) { out.append(kv("rope.scaling.yarn_ext_factor", .float32(Float(v)))) }
                if let v = HFConfig.double(ropeParams["attention_factor"] ?? ropeParams["attn_factor"]) {
                    out.append(kv("rope.scaling.yarn_attn_factor", .float32(Float(v))))
                }
                if let v = HFConfig.double(ropeParams["beta_fast"]) { out.append(kv("rope.scaling.yarn_beta_fast", .float32(Float(v)))) }
                if let v = HFConfig.double(ropeParams["beta_slow"]) { out.append(kv("rope.scaling.yarn_beta_slow", .float32(Float(v)))) }
            case "su", "longrope":
                out.append(kv("rope.scaling.type", .string("longrope")))
            default:
                break  // llama3: rope_freqs tensor instead; dynamic and unknown types write nothing
            }
        }
        if let theta = HFConfig.double(ropeParams["rope_theta"]) { out.append(kv("rope.freq_base", .float32(Float(theta)))) }
        if let v = HFConfig.double(config.find(["rms_norm_eps", "norm_eps"])) { out.append(kv("attention.layer_norm_rms_epsilon", .float32(Float(v)))) }
        if let v = HFConfig.double(config.find(["layer_norm_eps", "layer_norm_epsilon", "norm_epsilon"])) {
            out.append(kv("attention.layer_norm_epsilon", .float32(Float(v))))
        }
        u32("expert_count", ["num_local_experts", "num_experts", "n_routed_experts"])
        u32("expert_used_count", ["num_experts_per_tok", "num_experts_per_token", "top_k_experts"])
        if let v = config.int("n_group") { out.append(kv("expert_group_count", .uint32(UInt32(v)))) }
        if let v = config.int("topk_group") { out.append(kv("expert_group_used_count", .uint32(UInt32(v)))) }
        if let f = config.string("score_function", "scoring_func", "score_func", "moe_router_activation", "moe_router_activation_func", "expert_selection_fn") {
            let gating: [String: UInt32] = ["softmax": 1, "sigmoid": 2, "sqrtsoftplus": 4]
            guard let g = gating[f] else { throw ConvertError("unsupported expert scoring function '\(f)'") }
            out.append(kv("expert_gating_func", .uint32(g)))
        }
        if let headDim = config.int("head_dim") {
            out.append(kv("attention.key_length", .uint32(UInt32(headDim))))
            out.append(kv("attention.value_length", .uint32(UInt32(headDim))))
        }
        out.append(GGUFKeyValue("general.file_type", .uint32(fileType.rawValue)))
        return out
    }
}
