/// Where `llama-gguf-split --split` starts a new part: `--split-max-size` or `--split-max-tensors`.
public enum GGUFSplitLimit: Equatable, Sendable {
    /// At most this many bytes of tensor data per part, each tensor counted padded to 32 bytes; the header is not
    /// counted, so a part's file is somewhat larger. A tensor larger than the limit gets a part of its own.
    case maxBytes(Int)
    /// At most this many tensors per part.
    case maxTensors(Int)

    /// Parses a `--split-max-size` value as `split_str_to_n_bytes` does: a positive whole number followed by `M`
    /// (10^6 bytes) or `G` (10^9 bytes): `500M`, `2G`. Stricter than llama.cpp, which reads `1.5G` as `1G`.
    public init(size text: String) throws(GGUFSplitError) {
        let digits = text.dropLast()
        let unit: Int
        switch text.last {
        case "M": unit = 1_000_000
        case "G": unit = 1_000_000_000
        default:
            throw GGUFSplitError("--split-max-size \(text): give a whole number of megabytes or gigabytes, such as 500M or 2G "
                + "(M = 10^6 bytes, G = 10^9 bytes, as llama-gguf-split counts)")
        }
        guard !digits.isEmpty, digits.allSatisfy({ $0.isASCII && $0.isNumber }), let n = Int(digits), n > 0, n <= Int(Int32.max) else {
            throw GGUFSplitError("--split-max-size \(text): the size must be a positive whole number followed by M or G, such as 500M or 2G")
        }
        self = .maxBytes(n * unit)
    }

    /// A `--split-max-tensors` value: at least 1.
    public init(tensors n: Int) throws(GGUFSplitError) {
        guard n >= 1 else { throw GGUFSplitError("--split-max-tensors \(n): a part must hold at least one tensor") }
        self = .maxTensors(n)
    }
}

/// Which tensors go in which part, decided as `llama-gguf-split --split` does (`split_strategy`): tensors stay in
/// order; a new part starts at tensor i when, with `.maxBytes`, the part's tensors so far plus tensor i (each padded
/// to 32 bytes) would exceed the limit, or, with `.maxTensors(n)`, when i is a non-zero multiple of n.
public struct GGUFSplitPlan: Equatable, Sendable {
    /// Each part's tensors: consecutive index ranges into the model's tensor list, covering it.
    public let parts: [Range<Int>]

    /// Plans the parts of a model with `tensors` (in file order). A first tensor larger than `.maxBytes` is refused,
    /// as llama-gguf-split refuses it (its first part would be empty).
    public init(tensors: [GGUFTensorInfo], limit: GGUFSplitLimit) throws(GGUFSplitError) {
        var parts: [Range<Int>] = []
        var start = 0, current = 0
        for (i, t) in tensors.enumerated() {
            let bytes = GGUFLayout.pad(t.byteCount, GGUFEncoder.defaultAlignment)
            let next = current + bytes
            let split: Bool
            switch limit {
            case .maxBytes(let max): split = next > max
            case .maxTensors(let n): split = i > 0 && i % n == 0
            }
            guard split else {
                current = next
                continue
            }
            guard i > start else {
                throw GGUFSplitError("the first tensor, \(t.name), is \(bytes) bytes, more than --split-max-size allows per part "
                    + "(\(GGUFSplitPlan.limitBytes(limit)) bytes); choose a larger size")
            }
            parts.append(start..<i)
            start = i
            current = bytes
        }
        parts.append(start..<tensors.count)
        guard parts.count <= GGUFSplit.maxCount else {
            throw GGUFSplitError("the model would be split into \(parts.count) parts, more than the \(GGUFSplit.maxCount) a split GGUF "
                + "can have; choose a larger limit")
        }
        self.parts = parts
    }

    /// The header keys of part `part` (0-based) of `count`, from the model's keys `kvs`: part 0 keeps them all
    /// (any split keys among them are replaced), later parts have none; then `split.no`, `split.tensors.count`
    /// and `split.count`, in that order (gguf-split sets `split.count` last, which moves it to the end).
    public static func kvs(_ kvs: [GGUFKeyValue], part: Int, count: Int, tensors: Int) -> [GGUFKeyValue] {
        (part == 0 ? kvs.filter { !GGUFSplit.keys.contains($0.key) } : []) + [
            GGUFKeyValue(GGUFSplit.noKey, .uint16(UInt16(part))),
            GGUFKeyValue(GGUFSplit.tensorsCountKey, .int32(Int32(tensors))),
            GGUFKeyValue(GGUFSplit.countKey, .uint16(UInt16(count))),
        ]
    }

    private static func limitBytes(_ limit: GGUFSplitLimit) -> Int {
        if case .maxBytes(let n) = limit { return n }
        return 0
    }
}
