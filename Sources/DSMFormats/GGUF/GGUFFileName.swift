/// What a `.gguf` file's path says about it, the one place for the naming rules of GGUF repos. Pure.
///
/// - Split parts are named as llama.cpp's `llama_split_path` writes them: `{stem}-{no:05d}-of-{count:05d}.gguf`, with
///   `no` counted from 1 in the name (the header's `split.no` counts from 0).
/// - A file whose name contains `imatrix` is an importance matrix, one with `mmproj` a vision projector: neither is a
///   model a runtime loads, so they are never a quantization choice.
/// - The quantization label is the folder when a folder holds one model (unsloth's `UD-IQ1_S/…`), else the trailing
///   quantization type of the stem (`…-Q4_K_M.gguf`, `…-UD-IQ1_S-00001-of-00004.gguf`), else the whole stem.
public struct GGUFFileName: Equatable, Sendable {
    /// The repo path as given.
    public let path: String
    /// The folder part of the path (empty at the top).
    public let folder: String
    /// The file name without the split suffix and `.gguf`.
    public let stem: String
    /// For a split part: its number (1-based, as in the name) and the number of parts.
    public let part: (number: Int, count: Int)?

    /// What the file is for.
    public enum Role: String, Sendable { case model, imatrix, mmproj }
    public let role: Role

    /// Reads `path`; nil when it does not end in `.gguf` (any case).
    public init?(_ path: String) {
        guard path.lowercased().hasSuffix(".gguf") else { return nil }
        self.path = path
        let slash = path.lastIndex(of: "/")
        folder = slash.map { String(path[..<$0]) } ?? ""
        var base = String(path[(slash.map { path.index(after: $0) } ?? path.startIndex)...].dropLast(5))
        part = GGUFFileName.splitSuffix(of: base)
        if part != nil { base = String(base.dropLast(15)) }
        stem = base
        let lower = base.lowercased()
        role = lower.contains("imatrix") ? .imatrix : lower.contains("mmproj") ? .mmproj : .model
    }

    public static func == (a: GGUFFileName, b: GGUFFileName) -> Bool { a.path == b.path }

    /// The name llama.cpp gives part `number` (1-based) of `count` for `stem`: `stem-00001-of-00004.gguf`.
    public static func partName(stem: String, number: Int, count: Int) -> String {
        GGUFSplit.fileName(stem: stem, index: number, count: count)
    }

    /// `-00001-of-00004` at the end of a base name (`GGUFSplit.parse`'s rule).
    static func splitSuffix(of base: String) -> (number: Int, count: Int)? {
        GGUFSplit.parse(base + ".gguf").map { ($0.index, $0.count) }
    }

    /// The quantization type at the end of the stem (`Q4_K_M`, `UD-IQ1_S`, `f16`, `BF16`), as written, or nil.
    public var quantization: String? {
        let pieces = stem.split(omittingEmptySubsequences: false) { $0 == "-" || $0 == "." }
        guard let last = pieces.last, GGUFFileName.isQuantizationType(String(last)) else { return nil }
        if pieces.count >= 2, pieces[pieces.count - 2].uppercased() == "UD" { return "\(pieces[pieces.count - 2])-\(last)" }
        return String(last)
    }

    /// True for names of quantization types and file types: `Q4_K_M`, `IQ1_S`, `Q8_0`, `TQ1_0`, `F16`, `BF16`, `F32`,
    /// `MXFP4_MOE` (any case).
    public static func isQuantizationType(_ text: String) -> Bool {
        let t = text.uppercased()
        if ["F16", "BF16", "F32", "FP16", "FP32"].contains(t) || t.hasPrefix("MXFP4") { return true }
        var rest = Substring(t)
        if rest.hasPrefix("I") { rest = rest.dropFirst() } else if rest.hasPrefix("T") { rest = rest.dropFirst() }
        guard rest.hasPrefix("Q"), rest.count >= 2 else { return false }
        rest = rest.dropFirst()
        guard let first = rest.first, first.isASCII, first.isNumber else { return false }
        return rest.allSatisfy { ($0.isASCII && ($0.isLetter || $0.isNumber)) || $0 == "_" }
    }
}

extension GGUFFileName {
    /// Checks that `parts` are exactly parts 1…count of one set (`GGUFSplit.order`'s rule: same folder, stem and
    /// count, each number once). Returns nil when they are, or one file alone, else what is wrong.
    public static func problem(withSet parts: [GGUFFileName]) -> String? {
        guard parts.count > 1 || parts.first?.part != nil else { return nil }
        do {
            _ = try GGUFSplit.order(parts.map(\.path))
            return nil
        } catch {
            return error.description
        }
    }
}
