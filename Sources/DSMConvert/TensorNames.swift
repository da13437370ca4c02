/// Hugging Face → GGUF tensor names for the architectures dsm converts, as one flat table
/// (llama.cpp gguf-py `tensor_mapping.py`, the entries these models use). Block tensors are
/// `model.layers.N.<suffix>` → `blk.N.<name>`; the `.weight`/`.bias` ending is kept.
public enum TensorNames {
    /// Whole-model tensors.
    static let global: [String: String] = [
        "model.embed_tokens": "token_embd",
        "lm_head": "output",
        "model.norm": "output_norm",
    ]

    /// Per-block tensors, by the part after `model.layers.N.`.
    static let block: [String: String] = [
        "input_layernorm": "attn_norm",
        "post_attention_layernorm": "ffn_norm",
        "self_attn.q_proj": "attn_q",
        "self_attn.k_proj": "attn_k",
        "self_attn.v_proj": "attn_v",
        "self_attn.o_proj": "attn_output",
        "self_attn.q_norm": "attn_q_norm",
        "self_attn.k_norm": "attn_k_norm",
        "mlp.gate_proj": "ffn_gate",
        "mlp.up_proj": "ffn_up",
        "mlp.down_proj": "ffn_down",
        // DeepSeek V2/V3 (MLA, MoE)
        "self_attn.q_a_proj": "attn_q_a",
        "self_attn.q_a_layernorm": "attn_q_a_norm",
        "self_attn.q_b_proj": "attn_q_b",
        "self_attn.kv_a_proj_with_mqa": "attn_kv_a_mqa",
        "self_attn.kv_a_layernorm": "attn_kv_a_norm",
        "self_attn.kv_b_proj": "attn_kv_b",
        "mlp.gate": "ffn_gate_inp",
        "mlp.shared_experts.gate_proj": "ffn_gate_shexp",
        "mlp.shared_experts.up_proj": "ffn_up_shexp",
        "mlp.shared_experts.down_proj": "ffn_down_shexp",
    ]

    /// The block index of `model.layers.N.…`, if any.
    public static func blockIndex(_ name: String) -> Int? {
        guard name.hasPrefix("model.layers.") else { return nil }
        return Int(name.dropFirst("model.layers.".count).prefix { $0.isNumber })
    }

    /// Maps a Hugging Face tensor name; nil when the name is not one these architectures use.
    public static func map(_ name: String) -> String? {
        var stem = name
        var suffix = ""
        for s in [".weight", ".bias"] where name.hasSuffix(s) {
            stem = String(name.dropLast(s.count))
            suffix = s
        }
        if let g = global[stem] { return g + suffix }
        let prefix = "model.layers."
        guard stem.hasPrefix(prefix) else { return nil }
        let rest = stem.dropFirst(prefix.count)
        guard let dot = rest.firstIndex(of: "."), let n = Int(rest[..<dot]) else { return nil }
        let part = String(rest[rest.index(after: dot)...])
        if part == "mlp.gate.e_score_correction_bias" && suffix.isEmpty { return "blk.\(n).exp_probs_b.bias" }
        guard let mapped = block[part] else { return nil }
        return "blk.\(n).\(mapped)\(suffix)"
    }

    /// llama.cpp keeps these in F32 whatever the outtype: 1-D tensors, norms, anything not ending in
    /// `.weight` (biases), and the MoE router.
    public static func forcedF32(_ ggufName: String, dimensions: Int) -> Bool {
        if dimensions <= 1 || ggufName.hasSuffix("_norm.weight") { return true }
        if !ggufName.hasSuffix(".weight") { return true }
        return ggufName.hasSuffix(".ffn_gate_inp.weight") || ggufName.hasSuffix(".ffn_gate_inp_shexp.weight")
    }
}
