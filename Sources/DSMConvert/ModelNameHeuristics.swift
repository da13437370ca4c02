import Foundation

/// gguf-py's guesses about a model from its id or folder name (`Metadata.get_model_id_components`,
/// `id_to_title`) and its size class (`size_label`), reproduced so `general.*` keys match llama.cpp's converter.
public enum ModelNameHeuristics {
    public struct Components: Equatable, Sendable {
        public var fullName: String?
        public var organization: String?
        public var basename: String?
        public var finetune: String?
        public var version: String?
        public var sizeLabel: String?
    }

    static func full(_ pattern: String, _ text: String, ignoreCase: Bool = true) -> Bool {
        guard let re = try? NSRegularExpression(pattern: "^(?:" + pattern + ")$", options: ignoreCase ? [.caseInsensitive] : []) else { return false }
        return re.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)) != nil
    }

    static func isDecimal(_ c: Character) -> Bool { c.isASCII && c.isNumber || (c.unicodeScalars.first?.properties.numericType == .decimal) }

    /// Splits `org/Name-Parts-7B-Instruct-v1.2` into name components, using `totalParams` to tell a real
    /// size label from, say, a context length.
    public static func components(_ modelID: String?, totalParams: Int) -> Components {
        guard let modelID else { return Components() }
        if modelID.contains(" ") { return Components(fullName: modelID) }
        var org: String?
        var fullName = modelID
        if let slash = modelID.firstIndex(of: "/") {
            org = String(modelID[..<slash])
            fullName = String(modelID[modelID.index(after: slash)...])
        }
        if let o = org, o.first == "." { org = nil }
        var parts = fullName.split(separator: "-", omittingEmptySubsequences: true).map(String.init)
        var types = [Set<String>](repeating: [], count: parts.count)
        for i in parts.indices {
            var part = parts[i]
            if full(#"(v|iter)?\d+([.]\d+)*"#, part) {
                types[i].insert("version")
            } else if full(#"i?q\d(_\w)*|b?fp?(16|32)"#, part) {
                types[i].insert("type")
                parts[i] = part.uppercased()
            } else if i > 0 && full(#"(([A]|\d+[x])?\d+([._]\d+)?[KMBT][\d]?|small|mini|medium|large|x?xl)"#, part) {
                part = part.replacingOccurrences(of: "_", with: ".")
                var chars = Array(part)
                if let last = chars.last, isDecimal(last), chars.count >= 2 {
                    chars = Array(chars[..<(chars.count - 2)]) + ["."] + [chars[chars.count - 1], chars[chars.count - 2]]
                }
                if chars.count > 1, isDecimal(chars[chars.count - 2]), "kmbt".contains(chars[chars.count - 1]) {
                    chars[chars.count - 1] = Character(chars[chars.count - 1].uppercased())
                }
                part = String(chars)
                if totalParams != 0, let scale = " KMBT".firstIndex(of: part.last!).map({ " KMBT".distance(from: " KMBT".startIndex, to: $0) }),
                   let number = Double(part.dropLast()) {
                    let label = number * pow(1000, Double(scale))
                    let tooSmallForAdapter = totalParams < 0 && label < Double(abs(totalParams) / 8)
                    let farFromModel = totalParams > 0 && abs(label - Double(totalParams)) > Double(7 * totalParams / 8)
                    if tooSmallForAdapter || farFromModel {
                        types[i].insert("finetune")
                        part = String(part.dropLast()) + part.last!.lowercased()
                    }
                }
                if types[i].isEmpty { types[i].insert("size_label") }
                parts[i] = part
            } else if i > 0 && full("chat|instruct|vision|lora", part) {
                if totalParams < 0 && part.lowercased() == "lora" { types[i].insert("type") } else { types[i].insert("finetune") }
            }
        }
        let hasNumericSize = zip(parts, types).contains { $1.contains("size_label") && $0.contains(where: isDecimal) }
        if hasNumericSize {
            for i in parts.indices where types[i].contains("size_label") && parts[i].allSatisfy(\.isLetter) {
                types[i].remove("size_label")
            }
        }
        var atStart = true
        for i in parts.indices {
            if atStart && ((types[i].isEmpty && parts[i].first!.isLetter) || types[i].contains("version")) {
                types[i].insert("basename")
            } else {
                atStart = false
                if types[i].isEmpty { types[i].insert("finetune") }
            }
        }
        for i in parts.indices.reversed() {
            if types[i].contains("basename") && types[i].count > 1 { types[i].remove("basename") } else { break }
        }
        func join(_ kind: String, excluding: String? = nil, unique: Bool = false) -> String? {
            var seen: [String] = []
            for (p, t) in zip(parts, types) where t.contains(kind) && (excluding == nil || !t.contains(excluding!)) {
                if !unique || !seen.contains(p) { seen.append(p) }
            }
            return seen.isEmpty ? nil : seen.joined(separator: "-")
        }
        var c = Components(fullName: fullName, organization: org, basename: join("basename"), finetune: join("finetune"),
                           version: join("version", excluding: "basename"), sizeLabel: join("size_label", unique: true))
        if c.sizeLabel == nil && c.finetune == nil && c.version == nil { c.basename = nil }
        return c
    }

    /// `id_to_title`: hyphens to spaces, all-lower-case words title-cased unless they look like versions or numbers.
    public static func title(_ text: String) -> String {
        text.trimmed().replacingOccurrences(of: "-", with: " ").split(whereSeparator: { $0.isWhitespace }).map { w -> String in
            let word = String(w)
            let isLower = word.contains(where: \.isLetter) && !word.contains(where: { $0.isLetter && $0.isUppercase })
            guard isLower, !full(#"v\d+(?:\.\d+)*|\d.*"#, word, ignoreCase: false) else { return word }
            return pythonTitle(word)
        }.joined(separator: " ")
    }

    /// Python's `str.title()`: a letter after a non-letter is upper-cased, other letters lower-cased.
    static func pythonTitle(_ s: String) -> String {
        var out = ""
        var previousCased = false
        for ch in s {
            if ch.isLetter {
                out += previousCased ? ch.lowercased() : ch.uppercased()
                previousCased = true
            } else {
                out.append(ch)
                previousCased = false
            }
        }
        return out
    }

    /// `size_label`: `8x7.0B` for MoE (experts × per-expert size), else `7.6B`, `79M`…, with at least two digits.
    public static func sizeLabel(total: Int, shared: Int, expertParams: Int, expertCount: Int) -> String {
        expertCount > 0 ? "\(expertCount)x\(rounded(abs(shared) + abs(expertParams)))" : rounded(abs(total))
    }

    static func rounded(_ count: Int) -> String {
        let n = Double(count)
        let (scaled, suffix): (Double, String) = n > 1e12 ? (n * 1e-12, "T") : n > 1e9 ? (n * 1e-9, "B") : n > 1e6 ? (n * 1e-6, "M") : (n * 1e-3, "K")
        let intDigits = String(Int(scaled.rounded(.toNearestOrEven)))
        let stripped = intDigits.drop(while: { $0 == "0" })
        let fix = max(2 - stripped.count, 0)
        return String(format: "%.\(fix)f", scaled) + suffix
    }
}
