import Foundation
import DSMFormats
import DSMTensors
import DSMSystem

/// `dsm convert`: a Hugging Face checkpoint folder → one GGUF file, with the metadata, tokenizer and
/// tensors llama.cpp's `convert_hf_to_gguf.py` writes, streamed (memory-mapped input, chunked output,
/// all cores) into a temp file that is renamed into place only when complete.
public struct Converter: Sendable {
    /// The architectures dsm converts, by config.json `architectures[0]`.
    public static let architectures: [any ModelArchitecture.Type] = [
        Qwen2Architecture.self, Qwen3Architecture.self, LlamaArchitecture.self, DeepseekV2Architecture.self,
    ]

    public var outType: OutType
    public var threads: Int

    public init(outType: OutType = .auto, threads: Int = ProcessInfo.processInfo.activeProcessorCount) {
        self.outType = outType
        self.threads = threads
    }

    /// What a conversion produced.
    public struct Result: Sendable {
        /// The file written, or the parts in order.
        public var files: [GGUFOutputFile]
        public var architecture: String
        public var fileType: GGUFFileType
        public var tensorCount: Int
        /// The (first) file.
        public var path: String { files[0].path }
        /// The size of all files.
        public var bytes: Int { files.reduce(0) { $0 + $1.bytes } }
    }

    /// Plans the output of the checkpoint `files` without writing anything (metadata and tensor list).
    public func plan(_ files: CheckpointFiles) throws
        -> (kvs: [GGUFKeyValue], tensors: [PlannedTensor], architecture: String, fileType: GGUFFileType) {
        let configPath = files.path("config.json") ?? files.label + "/config.json"
        let config = TransformersDefaults.apply(to: try HFConfig.load(configPath))
        guard let archs = config.values["architectures"] as? [String], let hfArch = archs.first else {
            throw ConvertError("config.json has no \"architectures\" list, so the model type is unknown")
        }
        guard let archType = Converter.architectures.first(where: { $0.huggingFaceNames.contains(hfArch) }) else {
            let known = Converter.architectures.flatMap { $0.huggingFaceNames }.joined(separator: ", ")
            throw ConvertError("architecture \(hfArch) is not supported by dsm convert (llama.cpp's converter must support it first, and dsm must map it); supported: \(known)")
        }
        let checkpoint = try SafetensorsCheckpoint(files: files)
        let (weightType, fileType) = outType.resolve(checkpoint)
        let context = ConversionContext(config: config, checkpoint: checkpoint, weightType: weightType, fileType: fileType)
        let arch = try archType.init(context: context)
        let tensors = try arch.tensors()
        var kvs: [GGUFKeyValue] = [GGUFKeyValue("general.architecture", .string(arch.ggufName)), GGUFKeyValue("general.type", .string("model"))]
        kvs += try GeneralMetadata(files: files, config: config).keys(tensors: tensors)
        kvs += try arch.parameters()
        kvs.append(GGUFKeyValue("general.quantization_version", .uint32(2)))
        kvs += try TokenizerConverter(files: files, config: config).keys()
        return (kvs, tensors, arch.ggufName, fileType)
    }

    /// Converts the checkpoint `files` into `output`.
    public func convert(_ files: CheckpointFiles, output: String, progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> Result {
        try convert(files, to: .file(output), progress: progress)
    }

    /// Converts the checkpoint `files` into one GGUF file or the parts of a split one.
    public func convert(_ files: CheckpointFiles, to layout: GGUFOutputLayout, progress: (@Sendable (Int, Int) -> Void)? = nil) throws -> Result {
        let (kvs, tensors, arch, fileType) = try plan(files)
        let writer = try layout.writer(kvs: kvs, tensors: tensors.map(\.info))
        let total = writer.totalSize
        let done = Counter()
        try TensorWriter(threads: threads).write(tensors, to: writer) { n in
            progress?(done.add(n), total)
        }
        let written = try writer.commit()
        // The caller hashes the file only when it needs the digest (registration, --json): re-reading a large
        // GGUF costs a good part of the conversion time.
        return Result(files: written, architecture: arch, fileType: fileType, tensorCount: tensors.count)
    }
}
