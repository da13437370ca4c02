import DSMFormats
import DSMTensors

/// Qwen2ForCausalLM (DeepSeek-R1-Distill-Qwen 1.5B–32B): a Llama-style decoder with q/k/v biases and
/// NEOX rope, converted without any tensor transform.
public struct Qwen2Architecture: PlainDecoder {
    public static let huggingFaceNames = ["Qwen2ForCausalLM"]
    public let ggufName = "qwen2"
    let context: ConversionContext
    public init(context: ConversionContext) throws { self.context = context }
}

/// Qwen3ForCausalLM (DeepSeek-R1-0528-Qwen3-8B): Qwen2 plus q/k norms and an explicit head_dim.
public struct Qwen3Architecture: PlainDecoder {
    public static let huggingFaceNames = ["Qwen3ForCausalLM"]
    public let ggufName = "qwen3"
    let context: ConversionContext
    public init(context: ConversionContext) throws { self.context = context }
}

/// Decoders whose conversion is the generic one: hyper-parameters as `TextModel` writes them and every
/// tensor mapped by name without a transform.
protocol PlainDecoder: ModelArchitecture {
    var context: ConversionContext { get }
}

extension PlainDecoder {
    public func parameters() throws -> [GGUFKeyValue] {
        try TextModelParameters(arch: ggufName, config: context.config)
            .keys(blockCount: try context.config.requireInt("num_hidden_layers", "n_layers", "n_layer"), fileType: context.fileType)
    }

    public func tensors() throws -> [PlannedTensor] {
        try DenseTensors.plan(context) { entry, name in [context.direct(entry, name: name)] }
    }
}

/// The tensors of dense decoders: every checkpoint tensor in converter order, mapped by `TensorNames`;
/// `transform` may rewrite one (the Llama Q/K permutation) or drop it.
enum DenseTensors {
    static func plan(_ context: ConversionContext,
                     transform: (SafetensorsCheckpoint.Entry, String) throws -> [PlannedTensor]) throws -> [PlannedTensor] {
        var out: [PlannedTensor] = []
        for entry in context.checkpoint.entries {
            let name = entry.tensor.name
            if name.hasSuffix(".attention.masked_bias") || name.hasSuffix(".attention.bias") || name.hasSuffix(".rotary_emb.inv_freq") { continue }
            guard entry.tensor.dtype.isConvertibleFloat, entry.tensor.dtype != .f8e4m3 else {
                throw ConvertError("tensor \(name) has dtype \(entry.tensor.dtype.rawValue); convert handles F32, F16 and BF16 here")
            }
            guard let mapped = TensorNames.map(name) else {
                throw ConvertError("cannot map tensor '\(name)' to a GGUF name; is this checkpoint really \((context.config.values["architectures"] as? [String])?.first ?? "the declared architecture")?")
            }
            out += try transform(entry, mapped)
        }
        return out
    }
}
