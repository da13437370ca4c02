import Testing
import DSMFormats
import DSMQuant

/// llama-quantize's type choice on the real tensor lists of the DeepSeek models (shapes from their configs),
/// checked against the tensor-type counts published for llama.cpp's own files (intel/ipex-llm#13301,
/// gpustack/gpustack#1060, ggml-org/llama.cpp#13916) and counts derived from llama-quant.cpp's rules.
@Suite struct TypeSelectionTests {
    typealias T = TensorDescriptor

    /// A dense Qwen2/Llama-style decoder as the converter names it.
    static func dense(layers: Int, embd: Int, ff: Int, heads: Int, kv: Int, vocab: Int, biases: Bool, qkNorm: Bool = false) -> [T] {
        let hd = embd / heads
        var t = [T(name: "token_embd.weight", dimensions: [embd, vocab], type: .bf16),
                 T(name: "output.weight", dimensions: [embd, vocab], type: .bf16),
                 T(name: "output_norm.weight", dimensions: [embd], type: .f32)]
        for i in 0..<layers {
            let p = "blk.\(i)."
            t += [T(name: p + "attn_norm.weight", dimensions: [embd], type: .f32), T(name: p + "ffn_norm.weight", dimensions: [embd], type: .f32),
                  T(name: p + "attn_q.weight", dimensions: [embd, embd], type: .bf16), T(name: p + "attn_k.weight", dimensions: [embd, kv * hd], type: .bf16),
                  T(name: p + "attn_v.weight", dimensions: [embd, kv * hd], type: .bf16), T(name: p + "attn_output.weight", dimensions: [embd, embd], type: .bf16),
                  T(name: p + "ffn_gate.weight", dimensions: [embd, ff], type: .bf16), T(name: p + "ffn_up.weight", dimensions: [embd, ff], type: .bf16),
                  T(name: p + "ffn_down.weight", dimensions: [ff, embd], type: .bf16)]
            if biases { t += ["q", "k", "v"].map { T(name: p + "attn_\($0).bias", dimensions: [$0 == "q" ? embd : kv * hd], type: .f32) } }
            if qkNorm { t += ["q", "k"].map { T(name: p + "attn_\($0)_norm.weight", dimensions: [hd], type: .f32) } }
        }
        return t
    }

    /// A DeepSeek V2/V3 MLA + MoE decoder (MLA split into attn_k_b / attn_v_b, as converted since April 2025).
    static func deepseek(layers: Int, dense: Int, embd: Int, ff: Int, heads: Int, qLora: Int?, experts: Int, ffExp: Int, shared: Int,
                         vocab: Int, bias: Bool) -> [T] {
        var t = [T(name: "token_embd.weight", dimensions: [embd, vocab], type: .bf16),
                 T(name: "output.weight", dimensions: [embd, vocab], type: .bf16),
                 T(name: "output_norm.weight", dimensions: [embd], type: .f32)]
        for i in 0..<layers {
            let p = "blk.\(i)."
            t += [T(name: p + "attn_norm.weight", dimensions: [embd], type: .f32), T(name: p + "ffn_norm.weight", dimensions: [embd], type: .f32),
                  T(name: p + "attn_kv_a_mqa.weight", dimensions: [embd, 576], type: .bf16), T(name: p + "attn_kv_a_norm.weight", dimensions: [512], type: .f32),
                  T(name: p + "attn_k_b.weight", dimensions: [128, 512, heads], type: .bf16), T(name: p + "attn_v_b.weight", dimensions: [512, 128, heads], type: .bf16),
                  T(name: p + "attn_output.weight", dimensions: [heads * 128, embd], type: .bf16)]
            if let q = qLora {
                t += [T(name: p + "attn_q_a.weight", dimensions: [embd, q], type: .bf16), T(name: p + "attn_q_a_norm.weight", dimensions: [q], type: .f32),
                      T(name: p + "attn_q_b.weight", dimensions: [q, heads * 192], type: .bf16)]
            } else {
                t.append(T(name: p + "attn_q.weight", dimensions: [embd, heads * 192], type: .bf16))
            }
            if i < dense {
                t += [T(name: p + "ffn_gate.weight", dimensions: [embd, ff], type: .bf16), T(name: p + "ffn_up.weight", dimensions: [embd, ff], type: .bf16),
                      T(name: p + "ffn_down.weight", dimensions: [ff, embd], type: .bf16)]
            } else {
                t += [T(name: p + "ffn_gate_inp.weight", dimensions: [embd, experts], type: .f32),
                      T(name: p + "ffn_gate_exps.weight", dimensions: [embd, ffExp, experts], type: .bf16),
                      T(name: p + "ffn_up_exps.weight", dimensions: [embd, ffExp, experts], type: .bf16),
                      T(name: p + "ffn_down_exps.weight", dimensions: [ffExp, embd, experts], type: .bf16),
                      T(name: p + "ffn_gate_shexp.weight", dimensions: [embd, ffExp * shared], type: .bf16),
                      T(name: p + "ffn_up_shexp.weight", dimensions: [embd, ffExp * shared], type: .bf16),
                      T(name: p + "ffn_down_shexp.weight", dimensions: [ffExp * shared, embd], type: .bf16)]
                if bias { t.append(T(name: p + "exp_probs_b.bias", dimensions: [experts], type: .f32)) }
            }
        }
        return t
    }

    static func counts(_ tensors: [T], _ type: QuantFileType, _ facts: ModelFacts) throws -> [String: Int] {
        let sorted = tensors.sorted { TensorOrder.precedes($0.name, $1.name) }
        var c: [String: Int] = [:]
        for choice in try TypeSelection(fileType: type, facts: facts).choose(sorted) { c[choice.type.name.lowercased(), default: 0] += 1 }
        return c
    }

    @Test func r1DistillQwen7B() throws {
        let t = Self.dense(layers: 28, embd: 3584, ff: 18944, heads: 28, kv: 4, vocab: 152064, biases: true)
        let facts = ModelFacts(architecture: "qwen2", layerCount: 28, headCount: 28, headCountKV: 4)
        #expect(try Self.counts(t, .q4_K_M, facts) == ["f32": 141, "q4_k": 169, "q6_k": 29])  // published
        #expect(try Self.counts(t, .q8_0, facts) == ["f32": 141, "q8_0": 198])
        #expect(try Self.counts(t, .q5_K_M, facts) == ["f32": 141, "q5_k": 169, "q6_k": 29])
    }

    @Test func r1DistillLlama8BAnd70B() throws {
        let t8 = Self.dense(layers: 32, embd: 4096, ff: 14336, heads: 32, kv: 8, vocab: 128256, biases: false)
        let f8 = ModelFacts(architecture: "llama", layerCount: 32, headCount: 32, headCountKV: 8)
        #expect(try Self.counts(t8, .q4_K_M, f8) == ["f32": 65, "q4_k": 193, "q6_k": 33])  // published: 66 f32 with rope_freqs
        let t70 = Self.dense(layers: 80, embd: 8192, ff: 28672, heads: 64, kv: 8, vocab: 128256, biases: false)
        let f70 = ModelFacts(architecture: "llama", layerCount: 80, headCount: 64, headCountKV: 8)
        #expect(f70.is70B)
        #expect(try Self.counts(t70, .q4_K_M, f70) == ["f32": 161, "q4_k": 441, "q5_k": 40, "q6_k": 81])
    }

    @Test func r1Qwen3_8B() throws {
        let t = Self.dense(layers: 36, embd: 4096, ff: 12288, heads: 32, kv: 8, vocab: 151936, biases: false, qkNorm: true)
        let facts = ModelFacts(architecture: "qwen3", layerCount: 36, headCount: 32, headCountKV: 8)
        #expect(try Self.counts(t, .q4_K_M, facts) == ["f32": 145, "q4_k": 217, "q6_k": 37])
    }

    @Test func deepseekV2LiteFallbacks() throws {
        let t = Self.deepseek(layers: 27, dense: 1, embd: 2048, ff: 10944, heads: 16, qLora: nil, experts: 64, ffExp: 1408, shared: 2,
                              vocab: 102400, bias: false)
        let facts = ModelFacts(architecture: "deepseek2", layerCount: 27, expertCount: 64, headCount: 16, headCountKV: 1)
        #expect(try Self.counts(t, .q4_K_M, facts) == ["f32": 108, "q4_k": 229, "q5_0": 41, "q6_k": 13, "q8_0": 13])
        #expect(try Self.counts(t, .q5_K_M, facts) == ["f32": 108, "q5_k": 229, "q5_1": 41, "q6_k": 13, "q8_0": 13])
    }

    @Test func deepseekV3() throws {
        let t = Self.deepseek(layers: 61, dense: 3, embd: 7168, ff: 18432, heads: 128, qLora: 1536, experts: 256, ffExp: 2048, shared: 1,
                              vocab: 129280, bias: true)
        let facts = ModelFacts(architecture: "deepseek2", layerCount: 61, expertCount: 256, headCount: 128, headCountKV: 1)
        #expect(t.count == 1086)  // published tensor count
        #expect(try Self.counts(t, .q4_K_M, facts) == ["f32": 361, "q4_k": 606, "q5_0": 61, "q6_k": 58])
        #expect(try Self.counts(t, .q8_0, facts) == ["f32": 361, "q8_0": 725])
    }

    @Test func tiedEmbeddingTakesTheOutputType() throws {
        let t = Self.dense(layers: 2, embd: 512, ff: 1024, heads: 4, kv: 2, vocab: 1000, biases: false).filter { $0.name != "output.weight" }
        let facts = ModelFacts(architecture: "qwen2", layerCount: 2)
        let choices = try TypeSelection(fileType: .q4_K_M, facts: facts).choose(t.sorted { TensorOrder.precedes($0.name, $1.name) })
        let sorted = t.sorted { TensorOrder.precedes($0.name, $1.name) }
        #expect(choices[sorted.firstIndex { $0.name == "token_embd.weight" }!].type == .q6_K)
    }

    @Test func fallbacksWhenRowsDoNotFillBlocks() throws {
        let facts = ModelFacts(architecture: "qwen2", layerCount: 1)
        let odd = [T(name: "blk.0.ffn_up.weight", dimensions: [120, 64], type: .bf16), T(name: "blk.0.ffn_gate.weight", dimensions: [96, 64], type: .bf16)]
        let c = try TypeSelection(fileType: .q4_K_M, facts: facts).choose(odd)
        #expect(c.map(\.type) == [.f16, .q5_0])
        #expect(c.allSatisfy { $0.fallback?.wanted == .q4_K })
        #expect(try TypeSelection(fileType: .q8_0, facts: facts).choose(odd).map(\.type) == [.f16, .q8_0])
    }

    @Test func neverQuantized() {
        for name in ["blk.0.attn_norm.weight", "blk.3.ffn_gate_inp.weight", "blk.0.attn_q.bias", "rope_freqs.weight", "blk.4.exp_probs_b.bias"] {
            #expect(!TypeSelection.allowsQuantization(T(name: name, dimensions: name.contains("gate_inp") ? [64, 8] : [64], type: .f32)), "\(name)")
        }
        #expect(TypeSelection.allowsQuantization(T(name: "blk.0.attn_k_b.weight", dimensions: [128, 512, 16], type: .bf16)))
        #expect(!TypeSelection.allowsQuantization(T(name: "blk.0.ffn_up.weight", dimensions: [64, 1], type: .bf16)))
    }

    @Test func llamaQuantizeTensorOrder() {
        let names = ["blk.10.attn_q.weight", "token_embd.weight", "blk.2.ffn_up.weight", "blk.2.attn_k.weight", "blk.2.attn_k.bias",
                     "output_norm.weight", "output.weight", "rope_freqs.weight", "blk.1.attn_v.weight"]
        #expect(TensorOrder.sorted(names) == ["output.weight", "output_norm.weight", "rope_freqs.weight", "token_embd.weight",
                                              "blk.1.attn_v.weight", "blk.2.attn_k.bias", "blk.2.attn_k.weight", "blk.2.ffn_up.weight",
                                              "blk.10.attn_q.weight"])
        #expect(TensorOrder.layer(of: "blk.61.ffn_down_exps.weight") == 61)
        #expect(TensorOrder.layer(of: "blkx.1.a") == nil)
    }

    @Test func fileTypeNames() {
        #expect(QuantFileType(name: "q4_k_m") == .q4_K_M)
        #expect(QuantFileType(name: "Q4_K") == .q4_K_M)
        #expect(QuantFileType(name: "q9") == nil)
        #expect(QuantFileType.q4_K_M.tagSuffix == "q4_K_M")
        #expect(QuantFileType.q8_0.tagSuffix == "q8_0")
        #expect(QuantFileType.q4_K_M.fileType.rawValue == 15)
    }
}
