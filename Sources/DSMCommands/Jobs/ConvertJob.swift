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
    /// Write the GGUF as a split GGUF's parts.
    var split: GGUFSplitLimit?
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
        /// The digest of the file (of the first part when split).
        let sha256: String?
        /// Where the GGUF is (its first part when split): the blob, or the `-o` path.
        let path: String
        /// Every part, in order, when split.
        let parts: [String]?
        let seconds: Double
    }

    func run() throws -> Result {
        let started = Date()
        let input = try ConvertInput.resolve(source, store: store)
        let out = try GGUFOutput(output: output, split: split, store: store, command: "convert")
        do {
            try out.begin()  // until the version is recorded, `dsm gc` must not remove what this conversion stores
            let result = try Converter(outType: outType, threads: threads).convert(input.files, to: out.layout, progress: progress)
            out.cleanup.disarm()
            let hashes = try out.hashes(result.files, wanted: hashOutput)
            var registered: ModelName?
            if out.intoStore, let hashes {
                let name = try GGUFOutput.derivedName(base: input.sourceName, localName: input.files.folderName,
                                                      suffix: result.fileType.outTypeName)
                try out.register(Array(zip(result.files, hashes)), as: name,
                                 provenance: .converted(from: input.label,
                                                        outType: result.fileType.outTypeName, input: input.sourceManifest))
                registered = name
            }
            let paths = registered != nil ? hashes!.map(store.blobPath) : result.files.map(\.path)
            return Result(conversion: result, registered: registered, sha256: hashes?[0], path: paths[0],
                          parts: split == nil ? nil : paths, seconds: Date().timeIntervalSince(started))
        } catch {
            out.cleanup.removeAll()
            throw error
        }
    }
}
