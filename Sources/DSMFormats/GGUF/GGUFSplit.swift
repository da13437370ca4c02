/// Split GGUF files as llama.cpp's `llama-gguf-split` writes them and its model loader reads them: a model in
/// `count` files named `<stem>-<index>-of-<count>.gguf` (`llama_split_path`: index 1-based, both five digits),
/// each holding the keys `split.no` (UINT16, 0-based), `split.count` (UINT16) and `split.tensors.count` (INT32, the
/// tensors of the whole model). Part 1 carries every other key; the tensors are the parts' tensors in order.
///
/// Pure: names and header readings in, verdicts out. Reading the files is the caller's (`GGUFSplitModel`).
public enum GGUFSplit {
    /// `LLM_KV_SPLIT_NO`: the part's 0-based position (UINT16).
    public static let noKey = "split.no"
    /// `LLM_KV_SPLIT_COUNT`: how many parts the model has (UINT16).
    public static let countKey = "split.count"
    /// `LLM_KV_SPLIT_TENSORS_COUNT`: the tensors of the whole model (INT32).
    public static let tensorsCountKey = "split.tensors.count"
    /// The three keys, which only describe the split: a merged or re-quantized file drops them.
    public static let keys: Set<String> = [noKey, countKey, tensorsCountKey]
    /// The most parts a split can have (`split.count` is a UINT16).
    public static let maxCount = Int(UInt16.max)

    /// What a part's file name says: `stem`, its 1-based `index` and the part `count`.
    public struct PartName: Hashable, Sendable {
        public var stem: String
        public var index: Int
        public var count: Int
        public init(stem: String, index: Int, count: Int) {
            self.stem = stem
            self.index = index
            self.count = count
        }

        /// The file name, `<stem>-<index:05>-of-<count:05>.gguf`.
        public var fileName: String { GGUFSplit.fileName(stem: stem, index: index, count: count) }
    }

    /// `llama_split_path` for a 1-based `index`: `DeepSeek-R1-Q4_K_M-00001-of-00009.gguf`. `stem` may be a path.
    public static func fileName(stem: String, index: Int, count: Int) -> String {
        "\(stem)-\(fiveDigits(index))-of-\(fiveDigits(count)).gguf"
    }

    /// The part a file name (or path: the stem keeps the folder) names, or nil when it does not follow
    /// `<stem>-NNNNN-of-MMMMM.gguf` with a non-empty stem and 1 ≤ NNNNN ≤ MMMMM ≤ 65535. Only the exact spelling
    /// `fileName` writes is accepted (five digits, zero-padded), as `llama_split_prefix` does.
    public static func parse(_ fileName: String) -> PartName? {
        let suffix = Array("-00000-of-00000.gguf".utf8)
        let u = Array(fileName.utf8)
        guard u.count > suffix.count else { return nil }
        let tail = Array(u[(u.count - suffix.count)...])
        guard let index = number(tail[1..<6]), let count = number(tail[10..<15]),
              tail[0] == UInt8(ascii: "-"), Array(tail[6..<10]) == Array("-of-".utf8), Array(tail[15...]) == Array(".gguf".utf8),
              (1...maxCount).contains(count), (1...count).contains(index) else { return nil }
        let stem = String(decoding: u[..<(u.count - suffix.count)], as: UTF8.self)
        guard !stem.hasSuffix("/") else { return nil }
        return PartName(stem: stem, index: index, count: count)
    }

    /// Orders the file names of one split model: every name must parse, share one stem and count, and together
    /// they must be parts 1 to count, each once. Returns the names in part order.
    public static func order(_ names: [String]) throws(GGUFSplitError) -> [String] {
        guard let first = names.first else { throw GGUFSplitError("no GGUF parts were given") }
        var byIndex: [Int: String] = [:]
        var expected: PartName?
        for name in names {
            guard let p = parse(name) else {
                throw GGUFSplitError("\(name) is not named as a part of a split GGUF (<name>-00001-of-00003.gguf); "
                    + "pass the parts of one model, named as llama-gguf-split names them")
            }
            let reference = expected ?? p
            expected = reference
            guard p.stem == reference.stem, p.count == reference.count else {
                throw GGUFSplitError("\(name) and \(first) are not parts of the same split GGUF "
                    + "(names differ in stem or part count); pass the parts of one model only")
            }
            if let other = byIndex.updateValue(name, forKey: p.index) {
                throw GGUFSplitError("\(other) and \(name) are both part \(p.index) of \(p.count); pass each part once")
            }
        }
        let p = expected!
        let missing = (1...p.count).filter { byIndex[$0] == nil }
        guard missing.isEmpty else {
            let names = missing.prefix(3).map { fileName(stem: p.stem, index: $0, count: p.count) }.joined(separator: ", ")
            throw GGUFSplitError("the split GGUF \(fileName(stem: p.stem, index: 1, count: p.count)) has \(p.count) parts but "
                + "\(missing.count) \(missing.count == 1 ? "is" : "are") missing (\(names)\(missing.count > 3 ? ", …" : "")); "
                + "download or copy every part into the same folder")
        }
        return (1...p.count).map { byIndex[$0]! }
    }

    /// The complete split models among a folder's or a repository's file names: stem (with folder) to its parts'
    /// names in order. Names that are not parts, and sets with a part missing or doubled, are left out (`order`
    /// says what is wrong with a set).
    public static func models(in names: [String]) -> [String: [String]] {
        var sets: [String: [String]] = [:]
        for name in names {
            if let p = parse(name) { sets["\(p.stem)\u{0}\(p.count)", default: []].append(name) }
        }
        var out: [String: [String]] = [:]
        for key in sets.keys.sorted() {
            let names = sets[key]!
            if let ordered = try? order(names), let stem = parse(ordered[0])?.stem, out[stem] == nil { out[stem] = ordered }
        }
        return out
    }

    /// What one part's header says about the split (all nil in a file that is not a part).
    public struct Header: Equatable, Sendable {
        public var no: Int?
        public var count: Int?
        public var tensorsCount: Int?
        public init(no: Int?, count: Int?, tensorsCount: Int?) {
            self.no = no
            self.count = count
            self.tensorsCount = tensorsCount
        }

        /// Reads the split keys of a header; a key of the wrong type is an error (the loader's `get_key` refuses it).
        public init(kvs: [GGUFKeyValue], file: String) throws(GGUFSplitError) {
            func read(_ key: String, _ type: GGUFValueType) throws(GGUFSplitError) -> Int? {
                guard let v = kvs.first(where: { $0.key == key })?.value else { return nil }
                switch v {
                case .uint16(let x) where type == .uint16: return Int(x)
                case .int32(let x) where type == .int32: return Int(x)
                default: throw GGUFSplitError("\(file): \(key) is a \(v.type) value, llama.cpp expects \(type); the file is damaged or was not written by llama-gguf-split")
                }
            }
            self.init(no: try read(noKey, .uint16), count: try read(countKey, .uint16), tensorsCount: try read(tensorsCountKey, .int32))
        }
    }

    /// Checks the headers of a model's parts against their names (`names` in part order, as `order` returns them;
    /// `headers[i]` read from `names[i]`), as llama.cpp's loader does: part i must say `split.no` = i - 1 and
    /// `split.count` = the part count. A single file is fine unless it claims to be a part of several (a
    /// `llama-gguf-split --merge` output keeps the keys with `split.count` = 0). With `tensors` (each part's tensor
    /// count), `split.tensors.count` must be their sum.
    public static func validate(headers: [Header], names: [String], tensors: [Int]? = nil) throws(GGUFSplitError) {
        precondition(headers.count == names.count && (tensors == nil || tensors!.count == names.count))
        let n = names.count
        for (i, (h, name)) in zip(headers, names).enumerated() {
            if n == 1 && (h.count ?? 0) <= 1 && (h.no ?? 0) == 0 { return }  // a plain or merged file, even one named `-00001-of-00001`
            guard let no = h.no, let count = h.count else {
                throw GGUFSplitError("\(name) is named as part \(i + 1) of \(n) but has no \(h.no == nil ? noKey : countKey) key, "
                    + "so it is not a llama-gguf-split part; rename it, or split the model again with llama-gguf-split")
            }
            if count > 1 && n == 1 && parse(name) == nil {
                throw GGUFSplitError("\(name) is part \(no + 1) of a \(count)-part split GGUF, but its name does not say so "
                    + "(<name>-\(fiveDigits(no + 1))-of-\(fiveDigits(count)).gguf), so its other parts cannot be found; "
                    + "give the parts their llama-gguf-split names and pass the first")
            }
            guard no == i, count == n else {
                throw GGUFSplitError("\(name) is named as part \(i + 1) of \(n) but its header says part \(no + 1) of \(count) "
                    + "(\(noKey) = \(no), \(countKey) = \(count)); the parts were renamed or mixed with another model's: "
                    + "restore the names llama-gguf-split gave them")
            }
        }
        guard let tensors, let declared = headers.first?.tensorsCount else { return }
        let total = tensors.reduce(0, +)
        guard declared == total else {
            throw GGUFSplitError("\(names[0]) says the model has \(declared) tensors (\(tensorsCountKey)) but its \(n) parts hold \(total); "
                + "a part is damaged or from another model: download the parts again")
        }
    }

    private static func fiveDigits(_ n: Int) -> String {
        let s = String(n)
        return s.count >= 5 ? s : String(repeating: "0", count: 5 - s.count) + s
    }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int? {
        var v = 0
        for d in digits {
            guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(d) else { return nil }
            v = v * 10 + Int(d - UInt8(ascii: "0"))
        }
        return v
    }
}

/// Why a split GGUF was refused or cannot be written; the message says what happened and what to do.
public struct GGUFSplitError: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ message: String) { description = message }
}
