/// What follows `@` in `NAME@SELECTOR`: a version number (`v3`), a channel (`stable`, `canary`) or a tag.
/// A name without `@` means its stable version.
public enum VersionSelector: Sendable, Equatable, CustomStringConvertible {
    case number(Int)
    case stable
    case canary
    case tag(String)

    /// Splits `text` at its last `@` (tags and versions contain no `@`): (`name`, selector or nil).
    public static func split(_ text: String) -> (name: String, selector: VersionSelector?) {
        guard let at = text.lastIndex(of: "@") else { return (text, nil) }
        return (String(text[..<at]), VersionSelector(parsing: String(text[text.index(after: at)...])))
    }

    public init(parsing s: String) {
        if s == "stable" { self = .stable }
        else if s == "canary" { self = .canary }
        else if s.hasPrefix("v"), let n = Int(s.dropFirst()), n > 0, s.dropFirst().allSatisfy(\.isNumber) { self = .number(n) }
        else { self = .tag(s) }
    }

    public var description: String {
        switch self {
        case .number(let n): return "v\(n)"
        case .stable: return "stable"
        case .canary: return "canary"
        case .tag(let t): return t
        }
    }
}

extension ReleaseState {
    /// The version a selector names (nil selector = stable), or a clear error.
    public func resolve(_ selector: VersionSelector?) throws(ReleaseError) -> VersionRecord {
        let number: Int?
        switch selector ?? .stable {
        case .number(let n): number = n
        case .stable:
            guard let s = stable else { throw ReleaseError("\(name) has no stable version; `dsm rollback \(name) --to vN` or `dsm release` sets one") }
            number = s
        case .canary:
            guard let c = canary else { throw ReleaseError("\(name) has no canary") }
            number = c
        case .tag(let t):
            guard let n = tags[t] else { throw ReleaseError("\(name) has no tag '\(t)'") }
            number = n
        }
        guard let n = number, let v = version(n) else {
            throw ReleaseError("\(name) has no version \(selector?.description ?? "")")
        }
        return v
    }
}
