import Foundation
import DSMArtifacts
import DSMFormats
import DSMConvert
import DSMQuant
import DSMStore
import DSMSystem

/// `dsm quantize` as one call: resolve SOURCE, plan every tensor's type, and (unless a dry run) write the GGUF
/// into a store write or to `-o` and register it. An error or a signal removes what was written.
struct QuantizeJob {
    var source: String?
    /// The type, threads and requantize policy.
    var quantizer: Quantizer
    var output: String?
    /// Write the result as a split GGUF's parts.
    var split: GGUFSplitLimit?
    var store: Store

    var fileType: QuantFileType { quantizer.fileType }
    /// Whether the result's SHA-256 is wanted even when it is written to `-o` (`--json`).
    var hashOutput = false
    /// Called once the plan is known (to size a progress display); returns the per-tensor progress callback.
    var onPlan: (QuantizePlan) -> (@Sendable (Quantizer.Progress) -> Void)? = { _ in nil }

    struct Result {
        let input: QuantizeInput
        let plan: QuantizePlan
        /// The size of the file, or of all parts.
        let bytes: Int
        let registered: ModelName?
        /// The digest of the file (of the first part when split).
        let sha256: String?
        /// The file (the first part when split): the blob, or where `-o` put it.
        let path: String
        /// Every part, in order, when split.
        let parts: [String]?
        let seconds: Double
    }

    /// The input and its plan, writing nothing (`--dry-run`).
    func plan() throws -> (QuantizeInput, QuantizePlan) {
        let input = try QuantizeInput.resolve(source, store: store)
        return (input, try plan(input))
    }

    func run() throws -> Result {
        let input = try QuantizeInput.resolve(source, store: store)
        // `dsm quantize X-bf16 --type BF16` would register X-bf16 again: the result would replace its own input
        // (and name as its source a manifest that no longer exists).
        if output == nil, case .gguf(_, let stored?, _, _) = input, try input.registeredName(fileType) == stored {
            throw CommandFailure(message: "quantizing \(stored) to \(fileType.rawValue) would register the result as \(stored), "
                + "replacing the model it is made from; write it to a file with -o instead")
        }
        let started = Date()
        // Trap signals before reading anything, so an interrupted run always exits 130 and leaves nothing.
        let out = try GGUFOutput(output: output, split: split, store: store, command: "quantize")
        do {
            let plan = try plan(input)
            if let split { _ = try GGUFSplitPlan(tensors: plan.infos, limit: split) }  // refused before the store is touched
            try out.begin()  // held until the version is recorded, so `dsm gc` leaves the new blobs alone
            let files = try quantizer.write(plan, to: out.layout, progress: onPlan(plan))
            out.cleanup.disarm()
            let hashes = try out.hashes(files, wanted: hashOutput)
            var registered: ModelName?
            if out.intoStore, let hashes {
                let name = try input.registeredName(fileType)
                try out.register(Array(zip(files, hashes)), as: name,
                                 provenance: .quantized(from: input.label, fileType: fileType.rawValue, input: try input.digest()))
                registered = name
            }
            let paths = registered != nil ? hashes!.map(store.blobPath) : files.map(\.path)
            return Result(input: input, plan: plan, bytes: files.reduce(0) { $0 + $1.bytes }, registered: registered, sha256: hashes?[0],
                          path: paths[0], parts: split == nil ? nil : paths, seconds: Date().timeIntervalSince(started))
        } catch {
            out.cleanup.removeAll()
            throw error
        }
    }

    /// Every tensor's type for `input`; a refusal names the input.
    private func plan(_ input: QuantizeInput) throws -> QuantizePlan {
        do {
            switch input {
            case .gguf(let parts, _, _, _): return try quantizer.plan(gguf: try GGUFModel(parts: parts))
            case .checkpoint(let c): return try quantizer.plan(converted: try Converter(outType: .auto, threads: quantizer.threads).plan(c.files))
            }
        } catch let e as QuantizeError {
            throw QuantizeError("\(input.label): \(e.description)")
        }
    }
}
