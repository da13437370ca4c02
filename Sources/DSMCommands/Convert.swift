import ArgumentParser
import Foundation
import DSMConvert
import DSMStore
import DSMRegistry
import DSMSystem
import DSMPull
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

    @OptionGroup var global: GlobalOptions

    func validate() throws {
        guard OutType(rawValue: outtype.lowercased()) != nil else {
            throw ValidationError("--outtype must be one of \(OutType.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        guard (1...256).contains(threads) else { throw ValidationError("--threads must be between 1 and 256") }
    }

    func run() throws {
        let store = global.store
        let type = OutType(rawValue: outtype.lowercased())!
        let converter = Converter(outType: type, threads: threads)
        var cleanupRef: OutputCleanup?
        do {
            let input = try ConvertInput.resolve(source, store: store)
            let started = Date()
            let out = try GGUFOutput(output: output, store: store, command: "convert")
            cleanupRef = out.cleanup
            // Until the version is recorded, `dsm gc` must not remove what this conversion stores.
            let writing = out.intoStore ? try Registry(store: store).blobWriterLock() : nil
            defer { withExtendedLifetime(writing) {} }
            let quiet = global.quiet || global.json
            let result = try converter.convert(directory: input.directory, output: out.destination, resolve: input.resolve) { done, total in
                if !quiet && Console.stderrIsTerminal {
                    FileHandle.standardError.write(Data("\r\u{1B}[Kconvert: \(ByteFormat.string(Int64(done))) / \(ByteFormat.string(Int64(total)))".utf8))
                }
            }
            out.cleanup.disarm()
            if !quiet && Console.stderrIsTerminal { FileHandle.standardError.write(Data("\n".utf8)) }
            var registered: String?
            let sha256 = out.intoStore || global.json ? try FileHasher.sha256(path: result.path) : nil
            if out.intoStore, let sha256 {
                let name = try GGUFOutput.derivedName(base: input.sourceName, localName: (input.directory as NSString).lastPathComponent,
                                                      suffix: result.fileType.outTypeName)
                try out.register(sha256: sha256, bytes: result.bytes, as: name, store: store,
                                 source: .init(endpoint: "dsm convert", repo: input.sourceName?.description ?? input.directory,
                                               revision: "outtype=\(result.fileType.outTypeName)", commit: input.sourceManifest ?? "local"))
                registered = name.description
            }
            let seconds = Date().timeIntervalSince(started)
            if global.json {
                try Console.json(ConvertReport(path: registered.map { _ in store.blobPath(sha256!) } ?? result.path, name: registered,
                                               architecture: result.architecture, fileType: result.fileType.rawValue, tensors: result.tensorCount,
                                               bytes: result.bytes, sha256: sha256 ?? "", seconds: seconds))
            } else if !global.quiet {
                let resolved = result.fileType == .allF32 ? "f32" : (result.fileType == .mostlyF16 ? "f16" : "bf16")
                Console.error("converted \(source) (\(result.architecture)) to \(resolved): \(result.tensorCount) tensors, \(ByteFormat.string(Int64(result.bytes))), "
                    + String(format: "%.1f s", seconds))
                Console.out(registered ?? result.path)
            }
        } catch let error as ValidationError {
            cleanupRef?.removeAll()
            throw error
        } catch {
            cleanupRef?.removeAll()
            Console.error("error: \(error)")
            throw ExitCode.failure
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
    enum CodingKeys: String, CodingKey { case path, name, architecture, fileType = "file_type", tensors, bytes, sha256, seconds }
}
