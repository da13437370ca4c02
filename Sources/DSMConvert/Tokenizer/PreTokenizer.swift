import Foundation
import DSMSystem

/// Chooses `tokenizer.ggml.pre`, the pre-tokenizer llama.cpp applies at run time. llama.cpp's converter
/// hashes the token ids a Hugging Face tokenizer gives for a fixed check text; dsm cannot run that
/// tokenizer, so it recognizes the same tokenizer families from tokenizer.json itself: a fingerprint of the
/// base vocabulary (SHA-256 over each token + "\n" in id order), and whether encoding adds a BOS token
/// (which is what separates, e.g., `deepseek-r1-qwen` from `qwen2`). Unknown tokenizers are refused,
/// as llama.cpp refuses an unknown hash. Fingerprints were taken from llama.cpp's own vocab test files
/// (docs/dev/convert-reference.md §5).
enum PreTokenizer {
    /// Base-vocabulary fingerprint → (pre name with BOS, pre name without BOS).
    static let vocabularies: [String: (withBOS: String?, withoutBOS: String?)] = [
        "479c920073825cc49357a884b9b26adcfd96155beb2ea068666c6d991065859f": ("deepseek-r1-qwen", "qwen2"),   // Qwen2 / R1-Distill-Qwen
        "b32b6443d79806ebfcf21bbdd351934126d664d8df5f8de5d6a0f4949dd1e419": ("llama-bpe", "smaug-bpe"),      // Llama 3 / R1-Distill-Llama
        "fd462a1e0fd2946d4214b4f7889c098530ef242f3529b95e3010c182ff9a80ed": ("deepseek-llm", nil),           // deepseek-llm, V2
        "0080f43bcb4e41ba2b5e63ae71c6e09ee0177e84858b33133b1cb119545b64ca": ("deepseek-coder", nil),         // deepseek-coder
    ]

    /// Qwen2's split regex, for Qwen-family vocabularies extended beyond the base fingerprint.
    static let qwen2Regex = #"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"#

    static func identify(tokenizer: [String: Any], tokenizerConfig: [String: Any]?) throws -> String {
        let addsBOS = addsBOSToken(tokenizer, tokenizerConfig)
        let vocab = ((tokenizer["model"] as? [String: Any])?["vocab"] as? [String: Any]) ?? [:]
        if let names = vocabularies[fingerprint(vocab)], let name = addsBOS ? names.withBOS : names.withoutBOS {
            return name
        }
        let regexes = splitRegexes(tokenizer["pre_tokenizer"])
        if regexes == [qwen2Regex] { return addsBOS ? "deepseek-r1-qwen" : "qwen2" }
        // DeepSeek-V3/R1: three Splits, digits in groups of up to three first, a 128000-token base vocabulary.
        if regexes.count == 3, regexes[0] == #"\p{N}{1,3}"#, vocab.count == 128_000, addsBOS { return "deepseek-v3" }
        throw ConvertError("the tokenizer (pre-tokenizer \(regexes.first.map { String($0.prefix(50)) } ?? "none"), \(vocab.count) base tokens) is not one dsm "
            + "recognizes, so it cannot choose llama.cpp's tokenizer.ggml.pre; supported: Qwen2/R1-Distill-Qwen, Llama 3, deepseek-llm, deepseek-coder, DeepSeek-V3")
    }

    /// SHA-256 over `token + "\n"` for ids 0..<N of the base vocabulary (empty string if ids are not dense).
    static func fingerprint(_ vocab: [String: Any]) -> String {
        var byID = [String?](repeating: nil, count: vocab.count)
        for (token, id) in vocab {
            guard let i = HFConfig.int(id), i >= 0, i < byID.count else { return "" }
            byID[i] = token
        }
        let digest = Digest(.sha256)
        for token in byID {
            guard let token else { return "" }
            digest.update(token + "\n")
        }
        return digest.finalizeHex()
    }

    /// The `Split` regexes of a pre-tokenizer (a single one or inside a `Sequence`).
    static func splitRegexes(_ node: Any?) -> [String] {
        guard let n = node as? [String: Any] else { return [] }
        if n["type"] as? String == "Sequence", let list = n["pretokenizers"] as? [Any] { return list.flatMap(splitRegexes) }
        if n["type"] as? String == "Split", let pattern = n["pattern"] as? [String: Any], let regex = pattern["Regex"] as? String { return [regex] }
        return []
    }

    /// Whether encoding adds a BOS token: a post-processor template that starts with a special token, or
    /// `add_bos_token` (which `LlamaTokenizerFast`, the class DeepSeek's repos use, defaults to true).
    static func addsBOSToken(_ tokenizer: [String: Any], _ tokenizerConfig: [String: Any]?) -> Bool {
        if let flag = tokenizerConfig?["add_bos_token"] as? Bool { return flag }
        if (tokenizerConfig?["tokenizer_class"] as? String)?.hasPrefix("LlamaTokenizer") == true { return true }
        if let post = tokenizer["post_processor"] as? [String: Any] {
            let processors = (post["processors"] as? [[String: Any]]) ?? [post]
            for p in processors where p["type"] as? String == "TemplateProcessing" {
                if let first = (p["single"] as? [[String: Any]])?.first, first["SpecialToken"] != nil { return true }
            }
        }
        return false
    }
}
