/// What the user typed after `dsm pull`, classified.
///
/// - `deepseek-r1:7b`, `deepseek-r1` → a catalog entry (family and optional tag)
/// - `hf.co/ORG/NAME[@REV][:TAG]`, `huggingface.co/…`, `https://huggingface.co/ORG/NAME[/tree/REV]`, `ORG/NAME[@REV][:TAG]`
///   → a Hub repository, at a revision (default `main`), with a tag. On a repo of GGUF files the tag names a
///   quantization (`:Q4_K_M`), as in Ollama and llama.cpp; on any other repo it is read as a revision, as dsm always
///   did. A tag that can only be a revision (`:refs/pr/1`, a 40-hex commit) is one from the start.
public enum ModelReference: Equatable, Sendable {
    case catalog(family: String, tag: String?)
    case repository(RepoID, revision: String?, tag: String?)

    /// Why a reference could not be understood.
    public struct ParseError: Error, CustomStringConvertible, Equatable, Sendable {
        public let input: String
        public let reason: String
        public var description: String { "'\(input)' is not a model reference: \(reason)" }
    }

    /// Parses a reference. A revision given both inline and separately must agree (checked by the caller).
    public static func parse(_ input: String) throws(ParseError) -> ModelReference {
        var text = input.trimmingSpaces()
        guard !text.isEmpty else { throw ParseError(input: input, reason: "it is empty") }
        var isRepo = false
        for scheme in ["https://", "http://"] where text.lowercased().hasPrefix(scheme) {
            text = String(text.dropFirst(scheme.count))
            isRepo = true
        }
        for host in ["hf.co/", "huggingface.co/", "www.huggingface.co/"] where text.lowercased().hasPrefix(host) {
            text = String(text.dropFirst(host.count))
            isRepo = true
        }
        if isRepo || text.contains("/") {
            return try parseRepository(text, input: input)
        }
        return try parseCatalog(text, input: input)
    }

    private static func parseRepository(_ text: String, input: String) throws(ParseError) -> ModelReference {
        var path = text
        var revision: String?
        var tag: String?
        // ORG/NAME[@REV]:TAG — repo ids and revisions cannot contain ':', so the first one starts the tag (which, read
        // as a legacy revision, may hold '/').
        if let colon = path.firstIndex(of: ":") {
            tag = String(path[path.index(after: colon)...])
            path = String(path[..<colon])
            if tag!.isEmpty { throw ParseError(input: input, reason: "the tag after ':' is empty") }
        }
        if let at = path.firstIndex(of: "@") {
            revision = String(path[path.index(after: at)...])
            path = String(path[..<at])
            if revision!.isEmpty { throw ParseError(input: input, reason: "the revision after '@' is empty") }
        }
        // Web form: ORG/NAME/tree/REV or ORG/NAME/resolve/REV/...
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        if revision == nil, parts.count >= 4, parts[2] == "tree" || parts[2] == "blob" || parts[2] == "resolve" {
            path = parts[0] + "/" + parts[1]
            revision = parts[3...].joined(separator: "/")
        } else if parts.count > 2 {
            throw ParseError(input: input, reason: "expected ORG/NAME, got \(parts.count) path parts")
        }
        if path.hasSuffix("/") { path.removeLast() }
        guard let repo = RepoID(path) else {
            throw ParseError(input: input, reason: "'\(path)' is not a valid Hugging Face repo id (ORG/NAME with letters, digits, '-', '_', '.')")
        }
        if let t = tag, !CatalogName.isTagText(t) || Revision.isCommit(t) {
            // Only a revision can look like this: the old ORG/NAME:REV form.
            guard revision == nil else { throw ParseError(input: input, reason: "'\(t)' is not a valid tag (letters, digits, '-', '_', '.')") }
            revision = t
            tag = nil
        }
        if let revision, !Revision.isValid(revision) {
            throw ParseError(input: input, reason: "'\(revision)' is not a valid revision")
        }
        if let tag, !Revision.isValid(tag) {  // it may still be read as a revision (repos without GGUF files)
            throw ParseError(input: input, reason: "'\(tag)' is neither a valid tag nor a valid revision")
        }
        return .repository(repo, revision: revision, tag: tag)
    }

    private static func parseCatalog(_ text: String, input: String) throws(ParseError) -> ModelReference {
        let pieces = text.split(separator: ":", omittingEmptySubsequences: false)
        guard pieces.count <= 2 else { throw ParseError(input: input, reason: "more than one ':'") }
        let family = String(pieces[0]).lowercased()
        guard CatalogName.isValidFamily(family) else {
            throw ParseError(input: input, reason: "'\(pieces[0])' is not a catalog name (letters, digits, '-', '_', '.'), nor ORG/NAME")
        }
        guard pieces.count == 2 else { return .catalog(family: family, tag: nil) }
        let tag = String(pieces[1]).lowercased()
        guard CatalogName.isValidTag(tag) else { throw ParseError(input: input, reason: "'\(pieces[1])' is not a valid tag") }
        return .catalog(family: family, tag: tag)
    }
}

/// Grammar of catalog families and tags (a subset of Ollama's model-name grammar).
public enum CatalogName {
    /// `[a-z0-9][a-z0-9._-]{0,79}`.
    public static func isValidFamily(_ text: String) -> Bool { isName(text, max: 80) }
    /// `[a-z0-9][a-z0-9._-]{0,127}`.
    public static func isValidTag(_ text: String) -> Bool { isName(text, max: 128) }

    /// A repo tag as typed (`Q4_K_M`, `UD-IQ1_S`): 1–128 letters of either case, digits, '.', '-', '_', starting with a
    /// letter or digit.
    public static func isTagText(_ text: String) -> Bool { isName(text.lowercased(), max: 128) }

    static func isName(_ text: String, max: Int) -> Bool {
        guard (1...max).contains(text.count), let first = text.unicodeScalars.first else { return false }
        let isAlnum: (Unicode.Scalar) -> Bool = { ("a"..."z").contains($0) || ("0"..."9").contains($0) }
        return isAlnum(first) && text.unicodeScalars.allSatisfy { isAlnum($0) || $0 == "." || $0 == "-" || $0 == "_" }
    }
}

/// Revision names: branches, tags, `refs/pr/N`, or commit ids.
public enum Revision {
    /// True for a full 40-hex commit id.
    public static func isCommit(_ text: String) -> Bool {
        text.count == 40 && text.unicodeScalars.allSatisfy { ("0"..."9").contains($0) || ("a"..."f").contains($0) }
    }

    /// Git ref-name rules, simplified: no spaces or control characters, no `..`, no leading `/` or `-`.
    public static func isValid(_ text: String) -> Bool {
        guard !text.isEmpty, text.count <= 256, !text.hasPrefix("/"), !text.hasPrefix("-"), !text.hasSuffix("/"),
              !text.contains(".."), !text.contains("//") else { return false }
        return text.unicodeScalars.allSatisfy { $0.value > 0x20 && $0.value != 0x7F && !"~^:?*[\\".unicodeScalars.contains($0) }
    }
}

extension String {
    func trimmingSpaces() -> String {
        let scalars = unicodeScalars
        guard let first = scalars.firstIndex(where: { $0 != " " && $0 != "\t" && $0 != "\n" }) else { return "" }
        let last = scalars.lastIndex(where: { $0 != " " && $0 != "\t" && $0 != "\n" })!
        return String(scalars[first...last])
    }
}
