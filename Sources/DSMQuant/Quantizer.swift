import Foundation
import DSMFormats
import DSMTensors
import DSMSystem

/// `dsm quantize`: a GGUF file (F32/F16/BF16, or quantized with `allowRequantize`) or a safetensors checkpoint
/// (in one pass, as `dsm convert` + quantize would) → a GGUF file laid out as llama-quantize writes it, with
/// every tensor's bytes equal to llama-quantize's. Streams: memory-mapped input, chunked output on all cores,
/// a temp file renamed into place only when complete.
public struct Quantizer: Sendable {
    public var fileType: QuantFileType
    public var threads: Int
    public var allowRequantize: Bool

    public init(fileType: QuantFileType, threads: Int = ProcessInfo.processInfo.activeProcessorCount, allowRequantize: Bool = false) {
        self.fileType = fileType
        self.threads = threads
        self.allowRequantize = allowRequantize
    }

    /// Plans the quantization of a GGUF file.
    public func plan(gguf file: GGUFFile) throws -> QuantizePlan { try plan(gguf: GGUFModel(file)) }

    /// Plans the quantization of a GGUF model, one file or a split one's parts (read as one: part 1's keys, every
    /// part's tensors; the split keys are dropped as llama-quantize drops them).
    public func plan(gguf model: GGUFModel) throws -> QuantizePlan {
        let inputs = model.tensors.map { file, t in
            PlannedTensor(name: t.name, dimensions: t.dimensions.map { Int($0) }, type: t.type,
                          source: GGUFTensorRows(file: file, tensor: t), raw: file.data(t))
        }
        return try QuantizePlan(kvs: model.kvs, tensors: inputs, fileType: fileType, allowRequantize: allowRequantize)
    }

    /// Plans the one-pass quantization of a checkpoint: `converted` is what `dsm convert --outtype auto` would write
    /// (`Converter.plan`), and each tensor is quantized from the values that file would hold.
    public func plan(converted: (kvs: [GGUFKeyValue], tensors: [PlannedTensor], architecture: String, fileType: GGUFFileType)) throws
        -> QuantizePlan {
        var inputs = converted.tensors
        for i in inputs.indices where inputs[i].type != .f32 {
            inputs[i].source = StoredValueRows(base: inputs[i].source, storage: inputs[i].type)
        }
        return try QuantizePlan(kvs: converted.kvs, tensors: inputs, fileType: fileType, allowRequantize: false)
    }

    /// Progress of a running quantization.
    public struct Progress: Sendable {
        public var bytesDone: Int
        public var bytesTotal: Int
        public var tensorsDone: Int
        public var lastTensor: String?
    }

    /// Writes `plan` to `output` (atomically); returns the file size.
    @discardableResult
    public func write(_ plan: QuantizePlan, to output: String, progress: (@Sendable (Progress) -> Void)? = nil) throws -> Int {
        try write(plan, to: .file(output), progress: progress)[0].bytes
    }

    /// Writes `plan` as one file or as split parts (each atomically); returns the files in order.
    @discardableResult
    public func write(_ plan: QuantizePlan, to layout: GGUFOutputLayout, progress: (@Sendable (Progress) -> Void)? = nil) throws
        -> [GGUFOutputFile] {
        let writer = try layout.writer(kvs: plan.kvs, tensors: plan.tensors.map(\.info))
        let total = writer.totalSize
        let bytes = Counter(), tensors = Counter()
        let names = plan.tensors.map(\.name)
        try TensorWriter(threads: threads, encode: QuantKernels.encode).write(plan.tensors, to: writer, progress: { n in
            progress?(Progress(bytesDone: bytes.add(n), bytesTotal: total, tensorsDone: tensors.add(0), lastTensor: nil))
        }, finished: { i in
            progress?(Progress(bytesDone: bytes.add(0), bytesTotal: total, tensorsDone: tensors.add(1), lastTensor: names[i]))
        })
        return try writer.commit()
    }
}
