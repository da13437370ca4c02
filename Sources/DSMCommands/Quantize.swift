import ArgumentParser
import Foundation
import DSMConvert
import DSMFormats
import DSMQuant
import DSMStore
import DSMRegistry
import DSMSystem

/// `dsm quantize`: GGUF or safetensors → a quantized GGUF with llama-quantize's mixes and bytes.
struct Quantize: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Quantize a model to Q4_K_M, Q8_0 or another llama.cpp type, byte-identical to llama-quantize.",
        discussion: """
        SOURCE is a stored model (a pulled checkpoint is quantized in one pass, no intermediate file), a .gguf file \
        (F32/F16/BF16, e.g. from dsm convert or llama.cpp), or a checkpoint folder; without SOURCE, the most recently \
        pulled model. Without -o the result is registered in the store as NAME-TYPE (deepseek-r1:7b-q4_K_M). \
        A split GGUF is read as one model: pass its first part (x-00001-of-00003.gguf, the others beside it) or a stored \
        split model. --split-max-size / --split-max-tensors write the result as split parts, as llama-gguf-split does.
        Types: \(QuantFileType.allCases.map(\.rawValue).joined(separator: ", ")).
        """
    )

    @Argument(help: "A stored model, a .gguf file or a checkpoint folder (default: the latest pull).")
    var source: String?

    @Flag(name: .customLong("q4"), help: "Q4_K_M (4-bit k-quant mix; what Ollama ships by default).")
    var q4 = false

    @Flag(name: .customLong("q8"), help: "Q8_0 (8-bit, nearly lossless).")
    var q8 = false

    @Option(name: .customLong("type"), help: "The file type by name, e.g. Q5_K_M, Q6_K, Q4_0.")
    var typeName: String?

    @Option(name: [.short, .customLong("output")], help: "Write the GGUF to this path instead of the store.")
    var output: String?

    @Option(name: .long, help: "Worker threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @Flag(name: .customLong("dry-run"), help: "Print every tensor's chosen type and the final size; write nothing.")
    var dryRun = false

    @Flag(name: .customLong("allow-requantize"), help: "Accept an input that is already quantized (loses quality).")
    var allowRequantize = false

    @OptionGroup var split: SplitOptions

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        let chosen = [q4, q8, typeName != nil].filter { $0 }.count
        guard chosen == 1 else { throw ValidationError("choose one type: --q4 (Q4_K_M), --q8 (Q8_0) or --type NAME") }
        if let typeName, QuantFileType(name: typeName) == nil {
            throw ValidationError("unknown type '\(typeName)'; valid types: \(QuantFileType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256") }
    }

    var fileType: QuantFileType { q4 ? .q4_K_M : (q8 ? .q8_0 : QuantFileType(name: typeName!)!) }

    func run() throws {
        var job = QuantizeJob(source: source, quantizer: Quantizer(fileType: fileType, threads: threads, allowRequantize: allowRequantize),
                              output: output, split: try split.limit, store: global.store)
        if dryRun {
            let (input, plan) = try job.plan()
            return try report(plan, input: input)
        }
        job.hashOutput = global.json
        let showProgress = !(global.quiet || global.json || !Console.stderrIsTerminal)
        nonisolated(unsafe) var display: QuantizeProgress?
        job.onPlan = { plan in
            guard showProgress else { return nil }
            let d = QuantizeProgress(tensorCount: plan.tensors.count)
            display = d
            return { d.update($0) }
        }
        let r = try job.run()
        display?.finish()
        try printResult(r)
    }

    /// Prints what a finished run wrote: `--json`, or the fallbacks and a summary on stderr and the name or path.
    private func printResult(_ r: QuantizeJob.Result) throws {
        let bpw = Double(r.plan.bytesOut) * 8 / Double(max(1, r.plan.elements))
        if global.json {
            try Console.json(QuantizeReport(path: r.path, name: r.registered?.description, fileType: fileType.rawValue, tensors: r.plan.tensors.count,
                                            bytesIn: r.plan.bytesIn, bytes: r.bytes, bitsPerWeight: bpw, fallbacks: r.plan.fallbackCount,
                                            sha256: r.sha256 ?? "", seconds: r.seconds, kernels: QuantKernels.selected, threads: threads,
                                            parts: r.parts))
        } else if !global.quiet {
            for e in r.plan.entries where e.fallback != nil { Console.error("note: \(e.name): \(e.fallback!)") }
            Console.error("quantized \(r.input.label) to \(fileType.rawValue): \(r.plan.tensors.count) tensors, "
                + "\(ByteFormat.string(Int64(r.plan.bytesIn))) → \(ByteFormat.string(Int64(r.bytes))) "
                + String(format: "(%.2f bits per weight), %.1f s", bpw, r.seconds))
            Console.out(r.registered?.description ?? (r.parts ?? [r.path]).joined(separator: "\n"))
        }
    }

    /// `--dry-run`: every tensor's type and size, and the totals. `bytes` is the size of the file the same command
    /// would write (header included, as in `--json` of a real run); the tensor sizes add up to `tensor_bytes`.
    func report(_ plan: QuantizePlan, input: QuantizeInput) throws {
        let bpw = Double(plan.bytesOut) * 8 / Double(max(1, plan.elements))
        let layout: GGUFOutputLayout = try split.limit.map { .split(prefix: "", limit: $0) } ?? .file("")
        let fileBytes = try layout.size(kvs: plan.kvs, tensors: plan.infos)
        if global.json {
            try Console.json(QuantizeDryRun(source: input.label, fileType: fileType.rawValue, bytesIn: plan.bytesIn, bytes: fileBytes,
                                            tensorBytes: plan.bytesOut, bitsPerWeight: bpw, tensors: plan.entries.map {
                                                .init(name: $0.name, shape: $0.dimensions, from: $0.from.name, type: $0.to.name,
                                                      bytes: $0.bytesOut, fallback: $0.fallback)
                                            }))
            return
        }
        // Swift's String(format:) ignores field widths for %@ on Linux, so the columns are padded here.
        func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
        let width = plan.entries.map(\.name.count).max() ?? 0
        let count = String(plan.entries.count)
        for (i, e) in plan.entries.enumerated() {
            let shape = "[" + e.dimensions.map(String.init).joined(separator: ", ") + "]"
            let note = e.fallback.map { "  (fallback: \($0))" } ?? ""
            let size = ByteFormat.string(Int64(e.bytesOut))
            let index = String(repeating: " ", count: count.count - String(i + 1).count) + String(i + 1)
            Console.out("[\(index)/\(count)] \(pad(e.name, width))  \(pad(shape, 14))  \(pad(e.from.name, 4)) → \(pad(e.to.name, 4))  "
                + String(repeating: " ", count: max(0, 10 - size.count)) + size + note)
        }
        var counts: [String: Int] = [:]
        for e in plan.entries { counts[e.to.name.lowercased(), default: 0] += 1 }
        let mix = counts.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ")
        Console.out("\(fileType.rawValue): \(ByteFormat.string(Int64(plan.bytesIn))) → \(ByteFormat.string(Int64(fileBytes))) file "
            + "(\(ByteFormat.string(Int64(plan.bytesOut))) of tensor data, " + String(format: "%.2f bits per weight); ", bpw)
            + "\(mix); nothing written")
    }
}

/// What `dsm quantize --json` prints.
struct QuantizeReport: Codable {
    var path: String
    var name: String?
    var fileType: String
    var tensors: Int
    var bytesIn: Int
    var bytes: Int
    var bitsPerWeight: Double
    var fallbacks: Int
    var sha256: String
    var seconds: Double
    var kernels: String
    var threads: Int
    /// A split output's parts (blobs, or files beside `-o`), in order; `path` and `sha256` are the first's.
    var parts: [String]?
    enum CodingKeys: String, CodingKey {
        case path, name, fileType = "file_type", tensors, bytesIn = "bytes_in", bytes, bitsPerWeight = "bits_per_weight"
        case fallbacks, sha256, seconds, kernels, threads, parts
    }
}

/// What `dsm quantize --dry-run --json` prints.
struct QuantizeDryRun: Codable {
    struct Tensor: Codable {
        var name: String
        var shape: [Int]
        var from: String
        var type: String
        var bytes: Int
        var fallback: String?
    }
    var source: String
    var fileType: String
    var bytesIn: Int
    /// The size of the file a real run writes (of all parts, when split).
    var bytes: Int
    /// The sum of the tensors' sizes (`bytes` minus the header and alignment padding).
    var tensorBytes: Int
    var bitsPerWeight: Double
    var tensors: [Tensor]
    enum CodingKeys: String, CodingKey {
        case source, fileType = "file_type", bytesIn = "bytes_in", bytes, tensorBytes = "tensor_bytes", bitsPerWeight = "bits_per_weight", tensors
    }
}

/// The terminal progress line: tensors done, the last finished tensor, bytes written.
final class QuantizeProgress: @unchecked Sendable {
    private let lock = NSLock()
    private let tensorCount: Int
    private var lastDraw = Date.distantPast

    init(tensorCount: Int) { self.tensorCount = tensorCount }

    func update(_ p: Quantizer.Progress) {
        lock.lock()
        defer { lock.unlock() }
        guard Date().timeIntervalSince(lastDraw) > 0.1 || p.tensorsDone == tensorCount else { return }
        lastDraw = Date()
        let pct = p.bytesTotal > 0 ? 100 * p.bytesDone / p.bytesTotal : 0
        let last = p.lastTensor.map { " " + $0 } ?? ""
        FileHandle.standardError.write(Data("\r\u{1B}[Kquantize: [\(p.tensorsDone)/\(tensorCount)] \(pct)% \(ByteFormat.string(Int64(p.bytesDone))) / \(ByteFormat.string(Int64(p.bytesTotal)))\(last)".utf8))
    }

    func finish() { FileHandle.standardError.write(Data("\n".utf8)) }
}
