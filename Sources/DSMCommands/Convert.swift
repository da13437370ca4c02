import ArgumentParser
import Foundation
import DSMConvert
import DSMStore
import DSMRegistry
import DSMSystem
import DSMFormats

/// `dsm convert`: a Hugging Face checkpoint (a pulled model or a local folder) → GGUF.
struct Convert: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Convert a safetensors checkpoint to GGUF, as llama.cpp's convert_hf_to_gguf.py does.",
        discussion: """
        SOURCE is a model in the store (see `dsm list`) or a local Hugging Face checkpoint folder. Without -o the GGUF \
        is written into the store and registered as NAME-OUTTYPE (for example deepseek-r1:7b-bf16).
        """
    )

    @Argument(help: "A stored model name or a checkpoint folder.")
    var source: String

    @Option(name: .long, help: "f32, f16, bf16 or auto (keep BF16 sources BF16).")
    var outtype: String = "auto"

    @Option(name: [.short, .customLong("output")], help: "Write the GGUF to this path instead of the store.")
    var output: String?

    @Option(name: .long, help: "Worker threads (default: all cores).")
    var threads: Int = ProcessInfo.processInfo.activeProcessorCount

    @OptionGroup var split: SplitOptions

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard OutType(rawValue: outtype.lowercased()) != nil else {
            throw ValidationError("--outtype must be one of \(OutType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256") }
    }

    func run() throws {
        let quiet = global.quiet || global.json
        var job = ConvertJob(source: source, outType: OutType(rawValue: outtype.lowercased())!, output: output, split: try split.limit,
                             threads: threads, store: global.store)
        job.hashOutput = global.json
        if !quiet && Console.stderrIsTerminal {
            job.progress = { done, total in
                FileHandle.standardError.write(Data("\r\u{1B}[Kconvert: \(ByteFormat.string(Int64(done))) / \(ByteFormat.string(Int64(total)))".utf8))
            }
        }
        let r = try job.run()
        if !quiet && Console.stderrIsTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
        let c = r.conversion
        if global.json {
            try Console.json(ConvertReport(path: r.path, name: r.registered?.description, architecture: c.architecture, fileType: c.fileType.rawValue,
                                           tensors: c.tensorCount, bytes: c.bytes, sha256: r.sha256 ?? "", seconds: r.seconds,
                                           parts: r.parts))
        } else if !global.quiet {
            Console.error("converted \(source) (\(c.architecture)) to \(c.fileType.outTypeName): \(c.tensorCount) tensors, "
                + "\(ByteFormat.string(Int64(c.bytes))), " + String(format: "%.1f s", r.seconds))
            Console.out(r.registered?.description ?? (r.parts ?? [c.path]).joined(separator: "\n"))
        }
    }
}

/// What `dsm convert --json` prints.
struct ConvertReport: Codable {
    var path: String
    var name: String?
    var architecture: String
    var fileType: UInt32
    var tensors: Int
    var bytes: Int
    var sha256: String
    var seconds: Double
    /// A split output's parts (blobs, or files beside `-o`), in order; `path` and `sha256` are the first's.
    var parts: [String]?
    enum CodingKeys: String, CodingKey { case path, name, architecture, fileType = "file_type", tensors, bytes, sha256, seconds, parts }
}
