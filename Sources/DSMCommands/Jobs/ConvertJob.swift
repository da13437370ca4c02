import Foundation
import DSMArtifacts
import DSMConvert
import DSMFormats
import DSMStore
import DSMSystem

/// `dsm convert` as one call: resolve SOURCE, write the GGUF (into a store write, or to `-o`), register it.
/// An error or a signal removes what was written (`OutputCleanup`).
struct ConvertJob {
    var source: String
    var outType: OutType
    var output: String?
    var threads: Int
    var store: Store
    /// Called with (bytes done, bytes total) while tensors are written.
    var progress: (@Sendable (Int, Int) -> Void)?
    /// Whether the result's SHA-256 is wanted even when it is written to `-o` (`--json`).
    var hashOutput = false

    struct Result {
        let conversion: Converter.Result
        /// The registered name, nil with `-o`.
        let registered: ModelName?
        let sha256: String?
        /// Where the GGUF is: the blob, or the `-o` path.
        let path: String
        let seconds: Double
    }

    func run() throws -> Result {
        let started = Date()
        let input = try ConvertInput.resolve(source, store: store)
        let out = try GGUFOutput(output: output, store: store, command: "convert")
        do {
            try out.begin()  // until the version is recorded, `dsm gc` must not remove what this conversion stores
            let result = try Converter(outType: outType, threads: threads)
                .convert(input.files, output: out.destination, progress: progress)
            out.cleanup.disarm()
            let sha256 = out.intoStore || hashOutput ? try FileHasher.sha256(path: result.path) : nil
            var registered: ModelName?
            if out.intoStore, let sha256 {
                let name = try GGUFOutput.derivedName(base: input.sourceName, localName: input.files.folderName,
                                                      suffix: result.fileType.outTypeName)
                try out.register(sha256: sha256, bytes: result.bytes, as: name,
                                 provenance: .converted(from: input.label,
                                                        outType: result.fileType.outTypeName, input: input.sourceManifest))
                registered = name
            }
            return Result(conversion: result, registered: registered, sha256: sha256,
                          path: registered != nil ? store.blobPath(sha256!) : result.path, seconds: Date().timeIntervalSince(started))
        } catch {
            out.cleanup.removeAll()
            throw error
        }
    }
}
