import Foundation

/// The YAML front matter of a model card (`README.md` between the first two `---` lines), parsed for the
/// simple shapes model cards use: `key: scalar`, `key: [a, b]`, and `key:` followed by `- item` lines.
/// Nested mappings are kept only as "present". Values are strings, lists of strings, or booleans/numbers as text.
public struct ModelCard: Sendable {
    public enum Value: Sendable, Equatable {
        case string(String)
        case list([String])
        case other
    }

    public var values: [String: Value] = [:]

    public init(values: [String: Value] = [:]) { self.values = values }

    /// Parses README.md text; no front matter gives an empty card.
    public init(readme: String) {
        var lines = readme.split(separator: "\n", omittingEmptySubsequences: false).map { String($0).replacingCR() }
        guard lines.first == "---" else { return }
        lines.removeFirst()
        var body: [String] = []
        for line in lines {
            if line == "---" { break }
            body.append(line.replacingTabs())
        }
        var currentKey: String?
        var currentList: [String]?
        func flush() {
            if let k = currentKey { values[k] = currentList.map { .list($0) } ?? values[k] ?? .other }
            currentKey = nil
            currentList = nil
        }
        for raw in body {
            let trimmed = raw.trimmed()
            if trimmed.isEmpty || trimmed.hasPrefix("#") { continue }
            let indented = raw.first == " "
            if trimmed.hasPrefix("- "), currentKey != nil {
                currentList = (currentList ?? []) + [ModelCard.scalar(String(trimmed.dropFirst(2)))]
                continue
            }
            if indented {
                if currentKey != nil && currentList == nil { values[currentKey!] = .other }
                continue
            }
            flush()
            guard let colon = trimmed.firstIndex(of: ":") else { continue }
            let key = String(trimmed[..<colon]).trimmed()
            let rest = String(trimmed[trimmed.index(after: colon)...]).trimmed()
            if rest.isEmpty {
                currentKey = key
            } else if rest.hasPrefix("[") && rest.hasSuffix("]") {
                let inner = rest.dropFirst().dropLast()
                values[key] = .list(inner.split(separator: ",").map { ModelCard.scalar(String($0).trimmed()) }.filter { !$0.isEmpty })
            } else {
                values[key] = .string(ModelCard.scalar(rest))
            }
        }
        flush()
    }

    static func scalar(_ s: String) -> String {
        var t = s.trimmed()
        if let hash = t.range(of: " #") { t = String(t[..<hash.lowerBound]).trimmed() }
        if t.count >= 2, (t.hasPrefix("\"") && t.hasSuffix("\"")) || (t.hasPrefix("'") && t.hasSuffix("'")) {
            t = String(t.dropFirst().dropLast())
        }
        return t
    }

    /// A string value.
    public func string(_ key: String) -> String? {
        if case .string(let s) = values[key] { return s }
        return nil
    }

    /// A string or list value as a list.
    public func list(_ key: String) -> [String]? {
        switch values[key] {
        case .string(let s): return [s]
        case .list(let l): return l
        default: return nil
        }
    }
}

extension String {
    func trimmed() -> String {
        let scalars = unicodeScalars
        guard let f = scalars.firstIndex(where: { $0 != " " && $0 != "\t" }) else { return "" }
        let l = scalars.lastIndex(where: { $0 != " " && $0 != "\t" })!
        return String(scalars[f...l])
    }
    func replacingCR() -> String { hasSuffix("\r") ? String(dropLast()) : self }
    func replacingTabs() -> String { replacingOccurrences(of: "\t", with: "  ") }
}
