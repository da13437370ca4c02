/// `--include` / `--exclude`: which repo files a pull takes, with the semantics of `hf download` (huggingface_hub's
/// `filter_repo_objects`): a path is kept when it matches at least one include pattern (or none are given) and no
/// exclude pattern. Patterns are shell globs matched against the whole repo path with Python's `fnmatch` rules:
/// `*` matches any run of characters including `/`, `?` one character, `[abc]`/`[a-z]`/`[!abc]` a class, case
/// matters; a pattern ending in `/` means everything under that folder. Pure.
public struct RepoFileFilter: Sendable, Equatable {
    public var include: [String]
    public var exclude: [String]

    public init(include: [String] = [], exclude: [String] = []) {
        self.include = include.map(Self.folderWildcard)
        self.exclude = exclude.map(Self.folderWildcard)
    }

    /// True when no pattern was given (every file is kept).
    public var isEmpty: Bool { include.isEmpty && exclude.isEmpty }

    /// Whether the repo file at `path` is kept.
    public func keeps(_ path: String) -> Bool {
        if !include.isEmpty && !include.contains(where: { Glob.matches(path, $0) }) { return false }
        return !exclude.contains { Glob.matches(path, $0) }
    }

    /// How the filter reads in messages and provenance: `include 'A/*', exclude '*.md'`.
    public var summary: String {
        (include.map { "include '\($0)'" } + exclude.map { "exclude '\($0)'" }).joined(separator: ", ")
    }

    /// huggingface_hub's `_add_wildcard_to_directories`: `folder/` becomes `folder/*`.
    static func folderWildcard(_ pattern: String) -> String { pattern.hasSuffix("/") ? pattern + "*" : pattern }
}

/// Python's `fnmatch.fnmatchcase`, on Unicode scalars.
enum Glob {
    static func matches(_ text: String, _ pattern: String) -> Bool {
        matches(Array(text.unicodeScalars)[...], Array(pattern.unicodeScalars)[...])
    }

    private static func matches(_ text: ArraySlice<Unicode.Scalar>, _ pattern: ArraySlice<Unicode.Scalar>) -> Bool {
        var t = text.startIndex, p = pattern.startIndex
        var star: (p: Int, t: Int)?  // the last `*` and where its match currently ends, for backtracking
        while t < text.endIndex {
            if p < pattern.endIndex {
                switch pattern[p] {
                case "*":
                    star = (p, t)
                    p += 1
                    continue
                case "?":
                    t += 1; p += 1
                    continue
                case "[":
                    if let (inClass, next) = classMatch(text[t], pattern, at: p) {
                        if inClass { t += 1; p = next; continue }
                    } else if text[t] == "[" {  // no closing `]`: a literal `[`
                        t += 1; p += 1
                        continue
                    }
                default:
                    if pattern[p] == text[t] { t += 1; p += 1; continue }
                }
            }
            guard let s = star else { return false }
            star = (s.p, s.t + 1)
            p = s.p + 1
            t = s.t + 1
        }
        while p < pattern.endIndex && pattern[p] == "*" { p += 1 }
        return p == pattern.endIndex
    }

    /// For a `[` at `start`: whether `c` is in the class and the index after its `]`, or nil when the class never
    /// closes (then `[` is literal, as in Python's `translate`).
    private static func classMatch(_ c: Unicode.Scalar, _ pattern: ArraySlice<Unicode.Scalar>, at start: Int) -> (Bool, Int)? {
        var i = start + 1
        var negate = false
        if i < pattern.endIndex && pattern[i] == "!" { negate = true; i += 1 }
        var j = i
        if j < pattern.endIndex && pattern[j] == "]" { j += 1 }  // a `]` first is a member
        while j < pattern.endIndex && pattern[j] != "]" { j += 1 }
        guard j < pattern.endIndex else { return nil }
        var found = false
        var k = i
        while k < j {
            if k + 2 < j && pattern[k + 1] == "-" {
                if pattern[k].value <= c.value && c.value <= pattern[k + 2].value { found = true }
                k += 3
            } else {
                if pattern[k] == c { found = true }
                k += 1
            }
        }
        return (found != negate, j + 1)
    }
}
