import Foundation

/// llama.cpp's converter reads hyper-parameters through transformers' `AutoConfig(...).to_dict()`
/// (transformers 4.57.6), which adds defaults a raw config.json may lack. These are the defaults that
/// change what the converter writes for the architectures dsm supports.
enum TransformersDefaults {
    static func apply(to config: HFConfig) -> HFConfig {
        var v = config.values
        let type = config.string("model_type") ?? ""
        switch type {
        case "llama", "mistral":
            // LlamaConfig always sets head_dim (hidden_size / num_attention_heads), so the converter writes
            // attention.key_length / value_length.
            if v["head_dim"] == nil || v["head_dim"] is NSNullType, let h = config.int("hidden_size"), let n = config.int("num_attention_heads"), n > 0 {
                v["head_dim"] = h / n
            }
        case "qwen3":
            if v["head_dim"] == nil { v["head_dim"] = 128 }
        case "deepseek_v2", "deepseek_v3":
            // DeepseekV2Config and DeepseekV3Config set head_dim = qk_rope_head_dim.
            if let rope = config.int("qk_rope_head_dim") { v["head_dim"] = rope }
        default:
            break
        }
        if v["num_key_value_heads"] == nil, let heads = config.int("num_attention_heads") { v["num_key_value_heads"] = heads }
        return HFConfig(values: v)
    }
}

/// `NSNull` without importing Foundation everywhere.
typealias NSNullType = NSNull
