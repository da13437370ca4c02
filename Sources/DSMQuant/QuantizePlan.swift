import DSMQuantKernels
import DSMFormats
import DSMTensors

/// Everything a quantization writes, decided before any tensor is read: llama-quantize's output layout.
public struct QuantizePlan: Sendable {
    public struct Entry: Sendable {
        public var name: String
        public var dimensions: [Int]
        public var from: GGMLType
        public var to: GGMLType
        public var fallback: String?
        public var bytesIn: Int
        public var bytesOut: Int
    }

    public var fileType: QuantFileType
    public var kvs: [GGUFKeyValue]
    public var entries: [Entry]
    public var tensors: [PlannedTensor]
    public var facts: ModelFacts

    public var bytesIn: Int { entries.reduce(0) { $0 + $1.bytesIn } }
    public var bytesOut: Int { entries.reduce(0) { $0 + $1.bytesOut } }
    public var elements: Int { entries.reduce(0) { $0 + $1.dimensions.reduce(1, *) } }
    public var fallbackCount: Int { entries.filter { $0.fallback != nil }.count }
    /// The tensors' header entries, in output order (what a writer lays out and a split plan cuts).
    public var infos: [GGUFTensorInfo] { tensors.map(\.info) }
    /// The size of the file this plan writes: header, tensor data and alignment padding.
    public var fileSize: Int {
        let (laid, dataSize) = GGUFLayout.assignOffsets(tensors.map(\.info), alignment: GGUFEncoder.defaultAlignment)
        return GGUFEncoder.header(kvs: kvs, tensors: laid, alignment: GGUFEncoder.defaultAlignment).count + dataSize
    }

    /// Plans `inputs` (in any order) with metadata `kvs` as llama-quantize would write them as `fileType`. Each
    /// input's source gives its values as float32; its `raw` bytes, when present, are copied unchanged where the
    /// tensor keeps its type. Refuses quantized inputs unless `allowRequantize`.
    public init(kvs inputKVs: [GGUFKeyValue], tensors inputs: [PlannedTensor], fileType: QuantFileType,
                allowRequantize: Bool = false) throws {
        self.fileType = fileType
        guard case .string(let arch)? = inputKVs.first(where: { $0.key == "general.architecture" })?.value else {
            throw QuantizeError("the input has no general.architecture key, so it is not a llama.cpp model file")
        }
        func int(_ key: String) -> Int {
            switch inputKVs.first(where: { $0.key == "\(arch).\(key)" })?.value {
            case .uint32(let v)?: return Int(v)
            case .int32(let v)?: return Int(v)
            case .uint64(let v)?: return Int(v)
            case .int64(let v)?: return Int(v)
            case .uint16(let v)?: return Int(v)
            case .uint8(let v)?: return Int(v)
            default: return 0
            }
        }
        let layers = int("block_count")
        guard layers > 0 else { throw QuantizeError("the input has no \(arch).block_count key, so it is not a complete \(arch) model file") }
        facts = ModelFacts(architecture: arch, layerCount: layers, expertCount: int("expert_count"),
                           headCount: int("attention.head_count"), headCountKV: int("attention.head_count_kv"))
        let sorted = inputs.sorted { TensorOrder.precedes($0.name, $1.name) }
        let choices = try TypeSelection(fileType: fileType, facts: facts).choose(sorted.map { TensorDescriptor(name: $0.name, dimensions: $0.dimensions, type: $0.type) })
        var entries: [Entry] = [], tensors: [PlannedTensor] = []
        for (d, choice) in zip(sorted, choices) {
            guard QuantKernels.writes.contains(choice.type) || choice.type == d.type else {
                throw QuantizeError("tensor \(d.name) would need \(choice.type.name), which dsm does not write")
            }
            let copy = choice.type == d.type
            if !copy && d.type.isQuantized && !allowRequantize {
                throw QuantizeError("tensor \(d.name) is already quantized (\(d.type.name)); re-quantizing loses quality, so dsm refuses it "
                    + "unless you pass --allow-requantize (better: quantize the F16/BF16 original)")
            }
            if !copy && !Dequantizer.sources.contains(d.type) {
                throw QuantizeError("tensor \(d.name) is \(d.type.name), which dsm cannot read")
            }
            let elements = d.dimensions.reduce(1, *)
            entries.append(Entry(name: d.name, dimensions: d.dimensions, from: d.type, to: choice.type,
                                 fallback: choice.fallback.map { "\($0.wanted.name) → \(choice.type.name): \($0.reason)" },
                                 bytesIn: d.type.byteCount(elements: elements), bytesOut: choice.type.byteCount(elements: elements)))
            let dims = Array(d.dimensions.prefix(TypeSelection.nDims(d.dimensions)))
            if copy, let raw = d.raw {
                // Copied byte for byte; the source stays only to keep the input's mapping alive.
                tensors.append(PlannedTensor(name: d.name, dimensions: dims, type: d.type, source: d.source, raw: raw))
            } else {
                tensors.append(PlannedTensor(name: d.name, dimensions: dims, type: choice.type, source: d.source))
            }
        }
        self.entries = entries
        self.tensors = tensors
        // KVs copied in order; quantization_version and file_type re-set (so moved to the end), split keys dropped.
        let dropped: Set<String> = ["general.quantization_version", "general.file_type", "split.no", "split.count", "split.tensors.count"]
        kvs = inputKVs.filter { !dropped.contains($0.key) }
            + [GGUFKeyValue("general.quantization_version", .uint32(2)), GGUFKeyValue("general.file_type", .uint32(fileType.fileType.rawValue))]
    }
}
