import Foundation
import DSMFormats
import DSMTensors

/// LlamaForCausalLM (DeepSeek-R1-Distill-Llama 8B/70B, deepseek-llm, deepseek-coder): rows of q_proj and
/// k_proj are permuted from Hugging Face's rotate-half rope layout to ggml's interleaved one, and Llama 3
/// rope scaling becomes a `rope_freqs` tensor written first.
public struct LlamaArchitecture: ModelArchitecture {
    public static let huggingFaceNames = ["LlamaForCausalLM"]
    public let ggufName = "llama"
    let context: ConversionContext

    public init(context: ConversionContext) throws { self.context = context }

    public func parameters() throws -> [GGUFKeyValue] {
        let c = context.config
        var keys = try TextModelParameters(arch: ggufName, config: c)
            .keys(blockCount: try c.requireInt("num_hidden_layers", "n_layers", "n_layer"), fileType: context.fileType)
        keys.append(GGUFKeyValue("llama.vocab_size", .uint32(UInt32(try c.requireInt("vocab_size")))))
        let ropeDim = try c.int("head_dim") ?? (c.requireInt("hidden_size") / c.requireInt("num_attention_heads"))
        keys.append(GGUFKeyValue("llama.rope.dimension_count", .uint32(UInt32(ropeDim))))
        return keys
    }

    public func tensors() throws -> [PlannedTensor] {
        let c = context.config
        let nHead = try c.requireInt("n_heads", "num_attention_heads")
        let nKV = try c.requireInt("n_kv_heads", "num_key_value_heads")
        var out: [PlannedTensor] = []
        if let factors = try LlamaArchitecture.ropeFactors(TextModelParameters(arch: ggufName, config: c).ropeParameters, config: c) {
            out.append(PlannedTensor(name: "rope_freqs.weight", dimensions: [factors.count], type: .f32, source: GeneratedRows(values: factors)))
        }
        out += try DenseTensors.plan(context) { entry, name in
            let hf = entry.tensor.name
            let heads: Int? = hf.hasSuffix("q_proj.weight") || hf.hasSuffix("q_proj.bias") ? nHead
                : (hf.hasSuffix("k_proj.weight") || hf.hasSuffix("k_proj.bias") ? (nKV != nHead ? nKV : nHead) : nil)
            guard let heads else { return [context.direct(entry, name: name)] }
            return [context.direct(entry, name: name, source: try LlamaArchitecture.permuted(context.rows(entry), heads: heads,
                                                                                              isVector: entry.tensor.shape.count == 1))]
        }
        return out
    }

    /// `permute(W, n)`: reshape rows to (n, 2, rows/n/2), swap the middle axes. Output row h·hd + 2i + j
    /// comes from input row h·hd + j·hd/2 + i. For 1-D biases the same map applies to elements.
    static func permuted(_ rows: TensorRows, heads: Int, isVector: Bool) throws -> any RowSource {
        let count = isVector ? rows.rowLength : rows.rowCount
        guard heads > 0, count % (2 * heads) == 0 else { throw ConvertError("q/k projection with \(count) rows cannot be split into \(heads) heads") }
        let hd = count / heads
        let map: @Sendable (Int) -> Int = { r in
            let h = r / hd, k = r % hd
            return h * hd + (k % 2) * (hd / 2) + k / 2
        }
        if isVector {
            return GatheredRows(rowLength: rows.rowLength, rowCount: 1) { _, col in
                loadFloat(rows.bytes, map(col), rows.dtype)
            }
        }
        return PermutedRows(base: rows, map: map)
    }

    /// Llama 3's per-frequency rope scaling factors, in the converter's float32 arithmetic.
    static func ropeFactors(_ rope: [String: Any], config: HFConfig) throws -> [Float]? {
        let params = (rope["full_attention"] as? [String: Any]) ?? rope
        guard (params["rope_type"] as? String)?.lowercased() == "llama3" else { return nil }
        let base = Float(HFConfig.double(params["rope_theta"]) ?? 10000)
        let dim = try config.int("head_dim") ?? (config.requireInt("hidden_size") / config.requireInt("num_attention_heads"))
        let factor = Float(HFConfig.double(params["factor"]) ?? 8)
        let low = Float(HFConfig.double(params["low_freq_factor"]) ?? 1)
        let high = Float(HFConfig.double(params["high_freq_factor"]) ?? 4)
        let oldContext = Float(HFConfig.double(params["original_max_position_embeddings"]) ?? 8192)
        let lowWavelen = Double(oldContext) / Double(low)
        let highWavelen = Double(oldContext) / Double(high)
        var factors: [Float] = []
        for i in stride(from: 0, to: dim, by: 2) {
            let exponent = Float(i) / Float(dim)
            let freq = Float(1) / powf(base, exponent)
            let wavelen = Float(2 * Double.pi) / freq
            if Double(wavelen) < highWavelen {
                factors.append(1)
            } else if Double(wavelen) > lowWavelen {
                factors.append(factor)
            } else {
                let smooth = (oldContext / wavelen - low) / (high - low)
                factors.append(1 / ((1 - smooth) / factor + smooth))
            }
        }
        return factors
    }
}
