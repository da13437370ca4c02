/// The facts memory is computed from: layers, sizes, attention kind, parameters, and (from a local GGUF) the
/// exact tensor bytes.
public struct ModelShape: Sendable, Equatable, Codable {
    public enum Attention: Sendable, Equatable, Codable {
        /// Grouped-query (or multi-head) attention: K and V of `kvHeads` × `keyLength` / `valueLength` per layer.
        case gqa(kvHeads: Int, keyLength: Int, valueLength: Int)
        /// DeepSeek V2/V3 multi-head latent attention: llama.cpp caches the compressed latent (`kvLoraRank`) plus
        /// the rotary part (`ropeDim`) per layer and token, and no separate V (llama.cpp since PR #19067).
        case mla(kvLoraRank: Int, ropeDim: Int)
    }

    public var layers: Int
    public var hiddenSize: Int
    public var vocabSize: Int
    public var attention: Attention?
    public var parameters: Int64
    /// Parameters used per token (MoE); nil for dense models.
    public var activeParameters: Int64?
    /// The longest context the model was trained for.
    public var contextLength: Int
    /// Exact bytes of the weights when read from a GGUF: per repeated layer (`blk.N.*`) and the rest.
    public var ggufLayerBytes: [Int64]?
    public var ggufOtherBytes: Int64?

    public init(layers: Int, hiddenSize: Int, vocabSize: Int, attention: Attention?, parameters: Int64, activeParameters: Int64?,
                contextLength: Int, ggufLayerBytes: [Int64]? = nil, ggufOtherBytes: Int64? = nil) {
        self.layers = layers
        self.hiddenSize = hiddenSize
        self.vocabSize = vocabSize
        self.attention = attention
        self.parameters = parameters
        self.activeParameters = activeParameters
        self.contextLength = contextLength
        self.ggufLayerBytes = ggufLayerBytes
        self.ggufOtherBytes = ggufOtherBytes
    }

    /// KV cache bytes per token over all layers, at `bytesPerElement` (f16 2, q8_0 34/32, q4_0 18/32); nil when the
    /// attention is not known.
    public func kvBytesPerToken(bytesPerElement: Double = 2) -> Double? {
        switch attention {
        case .gqa(let h, let k, let v): return Double(layers * h * (k + v)) * bytesPerElement
        case .mla(let r, let rope): return Double(layers * (r + rope)) * bytesPerElement
        case nil: return nil
        }
    }

    /// The KV cache for `context` tokens in total (llama.cpp's `-c` is the total over its parallel slots).
    public func kvBytes(context: Int, bytesPerElement: Double = 2) -> Int64? {
        kvBytesPerToken(bytesPerElement: bytesPerElement).map { Int64($0 * Double(context)) }
    }
}
