import Foundation

/// Chooses `tokenizer.ggml.pre`, the pre-tokenizer llama.cpp applies at run time. llama.cpp's converter
/// hashes the token ids a Hugging Face tokenizer gives for a fixed check text; dsm cannot run that
/// tokenizer, so it recognizes the same tokenizer families from tokenizer.json itself: the split regex
/// of the pre-tokenizer and whether a BOS token is added. An unknown tokenizer is refused, as llama.cpp does.
enum PreTokenizer {
    /// Qwen2's split regex (also used by the DeepSeek-R1 distills of Qwen).
    static let qwen2Regex = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    static func identify(tokenizer: [String: Any], tokenizerConfig: [String: Any]?) throws -> String {
        let regexes = splitRegexes(tokenizer["pre_tokenizer"])
        let addsBOS = addsBOSToken(tokenizer, tokenizerConfig)
        if regexes == [qwen2Regex] {
            return addsBOS ? "deepseek-r1-qwen" : "qwen2"
        }
        throw ConvertError("the tokenizer's pre-tokenizer (\(regexes.first.map { String($0.prefix(60)) } ?? "none")…) is not one dsm recognizes; "
            + "llama.cpp would need its hash too. Supported: the Qwen2 / DeepSeek-R1-Distill BPE tokenizers")
    }

    /// The `Split` regexes of a pre-tokenizer (a single one or inside a `Sequence`).
    static func splitRegexes(_ node: Any?) -> [String] {
        guard let n = node as? [String: Any] else { return [] }
        if n["type"] as? String == "Sequence", let list = n["pretokenizers"] as? [Any] { return list.flatMap(splitRegexes) }
        if n["type"] as? String == "Split", let pattern = n["pattern"] as? [String: Any], let regex = pattern["Regex"] as? String { return [regex] }
        return []
    }

    /// Whether encoding adds a BOS token (TemplateProcessing starting with it, or add_bos_token).
    static func addsBOSToken(_ tokenizer: [String: Any], _ tokenizerConfig: [String: Any]?) -> Bool {
        if let post = tokenizer["post_processor"] as? [String: Any], post["type"] as? String == "TemplateProcessing",
           let single = post["single"] as? [[String: Any]], let first = single.first, first["SpecialToken"] != nil {
            return true
        }
        return (tokenizerConfig?["add_bos_token"] as? Bool) ?? false
    }
}
