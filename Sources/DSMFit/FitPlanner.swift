/// Whether, and how, a model runs on a machine: memory from the weights, the KV cache for the context, compute
/// buffers and runtime overhead, placed on the GPUs, split between GPU and RAM, or in RAM alone. Pure; the method
/// and its approximations are in docs/fit.md.
public enum FitPlanner {
    /// The verdict for one option.
    public enum Verdict: String, Sendable, Codable, Comparable {
        case gpu = "fits on GPU"
        case partial = "partial GPU offload"
        case cpu = "CPU only (slow)"
        case noFit = "does not fit"

        var rank: Int { [.gpu: 0, .partial: 1, .cpu: 2, .noFit: 3][self]! }
        public static func < (a: Self, b: Self) -> Bool { a.rank < b.rank }
    }

    /// One quantization of one model on one machine.
    public struct Plan: Sendable, Equatable, Codable {
        public var type: String
        public var context: Int
        public var weightBytes: Int64
        /// Nil when the model's attention is unknown (then the plan counts no KV cache and says so).
        public var kvBytes: Int64?
        public var computeBytes: Int64
        public var overheadBytes: Int64
        public var totalBytes: Int64
        public var verdict: Verdict
        /// Layers on the GPU (`-ngl`): all of them, some, or 0.
        public var gpuLayers: Int
        /// The longest context this type fits entirely on the GPUs (nil without GPUs or attention facts).
        public var maxGPUContext: Int?
        /// Memory missing for the next better verdict, when it does not fit.
        public var shortBytes: Int64?

        enum CodingKeys: String, CodingKey {
            case type, context, weightBytes = "weight_bytes", kvBytes = "kv_bytes", computeBytes = "compute_bytes"
            case overheadBytes = "overhead_bytes", totalBytes = "total_bytes", verdict, gpuLayers = "gpu_layers"
            case maxGPUContext = "max_gpu_context", shortBytes = "short_bytes"
        }
    }

    /// GiB each GPU keeps free (llama.cpp's `--fit-target` default is 1024 MiB) plus its CUDA context.
    public static let perGPUReserve: Int64 = 1536 << 20
    /// The runtime process itself (code, tokenizer, buffers outside the graph).
    public static let processOverhead: Int64 = 256 << 20

    /// RAM a model may use: what is available now, and never more than total minus 2 GiB or 10 % for the system.
    public static func usableRAM(_ m: MachineProfile) -> Int64 {
        let reserve = max(Int64(2) << 30, m.ramBytes / 10)
        return max(0, min(m.availableRAMBytes, m.ramBytes - reserve))
    }

    public static func usableVRAM(_ m: MachineProfile) -> Int64 {
        m.gpus.reduce(0) { $0 + max(0, $1.memoryBytes - perGPUReserve) }
    }

    /// llama.cpp's compute graph buffer for a 512-token batch: the logits (vocab) and activations (hidden).
    public static func computeBytes(_ s: ModelShape) -> Int64 { Int64(512 * 4 * (s.vocabSize + 4 * s.hiddenSize)) }

    /// Weight bytes at `type`: the GGUF's own size when it is that type, else parameters × bits per weight.
    public static func weightBytes(_ s: ModelShape, type: String, ggufType: String?) -> Int64? {
        if let g = ggufType, g.lowercased() == type.lowercased(), let layers = s.ggufLayerBytes, let other = s.ggufOtherBytes {
            return layers.reduce(0, +) + other
        }
        return QuantSizes.bytes(parameters: s.parameters, type: type)
    }

    /// The plan for `type` at `context` tokens.
    public static func plan(_ s: ModelShape, type: String, ggufType: String? = nil, context: Int, machine m: MachineProfile) -> Plan? {
        guard let weights = weightBytes(s, type: type, ggufType: ggufType) else { return nil }
        let kv = s.kvBytes(context: context)
        let compute = computeBytes(s)
        let total = weights + (kv ?? 0) + compute + processOverhead
        let vram = usableVRAM(m), ram = usableRAM(m)
        var p = Plan(type: type, context: context, weightBytes: weights, kvBytes: kv, computeBytes: compute, overheadBytes: processOverhead,
                     totalBytes: total, verdict: .noFit, gpuLayers: 0, maxGPUContext: nil, shortBytes: nil)
        // Each repeated layer carries its share of the weights and of the KV cache; the rest (embeddings, output)
        // and the compute buffer stay where llama.cpp puts them: embeddings in RAM, output with the last layer.
        let layerWeights = s.ggufLayerBytes.map { $0.reduce(0, +) } ?? Int64(Double(weights) * 0.92)
        let perLayer = (layerWeights + (kv ?? 0)) / Int64(max(1, s.layers))
        if !m.gpus.isEmpty {
            if weights + (kv ?? 0) + compute <= vram {
                p.verdict = .gpu
                p.gpuLayers = s.layers
            } else {
                let n = Int(max(0, vram - compute) / max(1, perLayer))
                let onGPU = Int64(min(n, s.layers)) * perLayer
                if n >= 1 && total - onGPU <= ram {
                    p.verdict = .partial
                    p.gpuLayers = min(n, s.layers - 1)
                }
            }
            if let perToken = s.kvBytesPerToken() {
                let room = vram - weights - compute
                if room > 0 { p.maxGPUContext = min(s.contextLength, Int(Double(room) / perToken) / 1024 * 1024) }
                if p.maxGPUContext == 0 { p.maxGPUContext = nil }
            }
        }
        if p.verdict == .noFit && total <= ram { p.verdict = .cpu }
        if p.verdict == .noFit { p.shortBytes = total - (ram + max(0, vram - compute)) }
        return p
    }

    /// Every option at `context`, best quality first.
    public static func plans(_ s: ModelShape, ggufType: String? = nil, context: Int, machine m: MachineProfile) -> [Plan] {
        var types = QuantSizes.options
        if let g = ggufType, !types.contains(where: { $0.lowercased() == g.lowercased() }) { types.insert(g, at: 0) }
        return types.compactMap { plan(s, type: $0, ggufType: ggufType, context: context, machine: m) }
    }

    /// The option to use: the best quality that runs entirely on the GPUs, up to Q8_0 (F16 is listed but not
    /// suggested: Q8_0 is within noise of it at half the memory), else Q4_K_M with partial offload, else Q4_K_M on
    /// the CPU, else the smallest type that runs at all; nil when nothing fits.
    public static func suggest(_ plans: [Plan]) -> Plan? {
        let ranked = plans.filter { $0.type != "F16" && $0.type != "BF16" }
        if let g = ranked.first(where: { $0.verdict == .gpu }) { return g }
        for v in [Verdict.partial, .cpu] {
            if let q4 = ranked.first(where: { $0.type == "Q4_K_M" && $0.verdict == v }) { return q4 }
            if let any = ranked.last(where: { $0.verdict == v }) { return any }
        }
        return nil
    }
}
