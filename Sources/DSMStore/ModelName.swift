/// A name in the local store: `[host/][namespace/]model:tag`, like Ollama's names
/// (`deepseek-r1:7b`, `hf.co/deepseek-ai/DeepSeek-V2-Lite-Chat:latest`). The tag defaults to `latest`.
/// Components are 1–96 characters from letters, digits, `-`, `_`, `.`, not starting with `.` or `-`;
/// tags may be up to 128 characters. Names compare case-sensitively, as stored.
public struct ModelName: Hashable, Sendable, CustomStringConvertible, Comparable {
    public let path: [String]
    public let tag: String

    public struct Invalid: Error, CustomStringConvertible {
        public let text: String
        public let reason: String
        public var description: String { "'\(text)' is not a valid model name: \(reason)" }
    }

    public init(path: [String], tag: String) throws(Invalid) {
        let text = path.joined(separator: "/") + ":" + tag
        guard (1...4).contains(path.count) else { throw Invalid(text: text, reason: "expected [host/][namespace/]model") }
        for part in path where !ModelName.isComponent(part, max: 96) {
            throw Invalid(text: text, reason: "'\(part)' must be 1-96 letters, digits, '-', '_' or '.', not starting with '.' or '-'")
        }
        guard ModelName.isComponent(tag, max: 128) else {
            throw Invalid(text: text, reason: "the tag '\(tag)' must be 1-128 letters, digits, '-', '_' or '.'")
        }
        self.path = path
        self.tag = tag
    }

    /// Parses `a/b/model:tag`; the tag defaults to `latest`.
    public init(parsing text: String) throws(Invalid) {
        var body = text
        var tag = "latest"
        if let colon = text.lastIndex(of: ":"), !text[colon...].contains("/") {
            tag = String(text[text.index(after: colon)...])
            body = String(text[..<colon])
        }
        try self.init(path: body.split(separator: "/", omittingEmptySubsequences: false).map(String.init), tag: tag)
    }

    public var description: String { path.joined(separator: "/") + ":" + tag }

    /// The name as a relative path: its path components as folders, the last one joined to the tag by `:`
    /// (`hf.co/deepseek-ai/DeepSeek-V2-Lite-Chat:latest`). Components cannot hold `:`, so an entry with a colon is
    /// always one name's own and no two names share or nest inside each other's entries (`x:a` and `x/a:b` are
    /// `x:a` and `x/a:b`, where folders per tag would put one inside the other).
    public var relativePath: String { path.joined(separator: "/") + ":" + tag }

    /// Relative path of this name's manifest under `manifests/`.
    public var manifestRelativePath: String { relativePath + ".json" }

    /// The name an entry of `relativePath` form denotes: `prefix` folders, then `last:tag` (nil when it is not one).
    public init?(folders prefix: [String], leaf: String) {
        guard let colon = leaf.firstIndex(of: ":"), let name = try? ModelName(path: prefix + [String(leaf[..<colon])],
                                                                             tag: String(leaf[leaf.index(after: colon)...])) else { return nil }
        self = name
    }

    public static func < (a: ModelName, b: ModelName) -> Bool { a.description < b.description }

    static func isComponent(_ text: String, max: Int) -> Bool {
        guard (1...max).contains(text.count), let first = text.unicodeScalars.first, first != ".", first != "-" else { return false }
        return text.unicodeScalars.allSatisfy {
            ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_" || $0 == "."
        } && text != "." && text != ".."
    }
}
