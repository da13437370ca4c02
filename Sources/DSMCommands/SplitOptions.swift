import ArgumentParser
import DSMFormats

/// `--split-max-size` / `--split-max-tensors` of `dsm convert` and `dsm quantize`: write the GGUF as the parts of a
/// split model, byte-identical to what `llama-gguf-split --split` makes of the single file.
struct SplitOptions: ParsableArguments {
    @Option(name: .customLong("split-max-size"), help: ArgumentHelp(
        "Write a split GGUF, each part at most SIZE of tensor data (500M, 2G; M = 10^6, G = 10^9 bytes), as llama-gguf-split does.",
        valueName: "SIZE"))
    var maxSize: String?

    @Option(name: .customLong("split-max-tensors"), help: ArgumentHelp(
        "Write a split GGUF with at most N tensors a part, as llama-gguf-split does.", valueName: "N"))
    var maxTensors: Int?

    /// The limit given, nil to write one file.
    var limit: GGUFSplitLimit? {
        get throws {
            if let maxSize { return try GGUFSplitLimit(size: maxSize) }
            if let maxTensors { return try GGUFSplitLimit(tensors: maxTensors) }
            return nil
        }
    }

    func validate() throws {
        guard maxSize == nil || maxTensors == nil else {
            throw ValidationError("choose one of --split-max-size and --split-max-tensors")
        }
        do { _ = try limit } catch { throw ValidationError("\(error)") }
    }
}
