import Foundation
import DSMFormats

/// Byte-level BPE tokenizers (`tokenizer.json` + `tokenizer_config.json`) → `tokenizer.ggml.*`, as
/// llama.cpp's `_set_vocab_gpt2` and gguf-py's `SpecialVocab` write them: model, pre-tokenizer name,
/// tokens padded to `vocab_size`, token types, merges, special ids, add_* flags, chat template.
public struct TokenizerConverter {
    let files: CheckpointFiles
    let config: HFConfig

    public init(files: CheckpointFiles, config: HFConfig) {
        self.files = files
        self.config = config
    }

    func loadJSON(_ name: String, required: Bool) throws -> [String: Any]? {
        guard let p = files.path(name) else {
            if required { throw ConvertError("\(name) is missing: dsm converts byte-level BPE tokenizers from tokenizer.json") }
            return nil
        }
        guard let data = FileManager.default.contents(atPath: p),
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConvertError("\(name) is not valid JSON; the tokenizer files look damaged")
        }
        return object
    }

    public func keys() throws -> [GGUFKeyValue] {
        guard let tokenizer = try loadJSON("tokenizer.json", required: true) else { return [] }
        let tokenizerConfig = try loadJSON("tokenizer_config.json", required: false)
        guard let model = tokenizer["model"] as? [String: Any], (model["type"] as? String) == "BPE",
              let vocab = model["vocab"] as? [String: Any] else {
            throw ConvertError("tokenizer.json is not a BPE tokenizer (model.type must be \"BPE\"); dsm converts byte-level BPE vocabularies")
        }
        let added = (tokenizer["added_tokens"] as? [[String: Any]]) ?? []
        var idToToken: [Int: String] = [:]
        for (token, id) in vocab {
            guard let i = HFConfig.int(id) else { throw ConvertError("tokenizer.json vocab entry '\(token)' has a non-integer id") }
            idToToken[i] = token
        }
        var addedByID: [Int: [String: Any]] = [:]
        for t in added {
            guard let i = HFConfig.int(t["id"]), let content = t["content"] as? String else {
                throw ConvertError("tokenizer.json added_tokens entries need an integer id and a content string")
            }
            idToToken[i] = content
            addedByID[i] = t
        }
        let maxID = idToToken.keys.max() ?? -1
        let vocabSize = config.int("vocab_size") ?? (maxID + 1)
        guard maxID < vocabSize else { throw ConvertError("tokenizer.json has token id \(maxID) but config.json vocab_size is \(vocabSize)") }

        var tokens: [GGUFValue] = []
        var types: [GGUFValue] = []
        tokens.reserveCapacity(vocabSize)
        types.reserveCapacity(vocabSize)
        for i in 0..<vocabSize {
            guard var token = idToToken[i] else {
                tokens.append(.string("[PAD\(i)]"))
                types.append(.int32(TokenType.unused))
                continue
            }
            if let a = addedByID[i] {
                if (a["special"] as? Bool) == true || TokenizerConverter.looksSpecial(token) {
                    types.append(.int32(TokenType.control))
                } else {
                    token = token.replacingOccurrences(of: "\u{2581}", with: " ")
                    types.append(.int32(TokenType.userDefined))
                }
            } else {
                types.append(.int32(TokenType.normal))
            }
            tokens.append(.string(token))
        }

        var out: [GGUFKeyValue] = [
            GGUFKeyValue("tokenizer.ggml.model", .string("gpt2")),
            GGUFKeyValue("tokenizer.ggml.pre", .string(try PreTokenizer.identify(tokenizer: tokenizer, tokenizerConfig: tokenizerConfig))),
            GGUFKeyValue("tokenizer.ggml.tokens", .array(.string, tokens)),
            GGUFKeyValue("tokenizer.ggml.token_type", .array(.int32, types)),
        ]
        var alternate: String?
        if let data = files.contents("chat_template.jinja") {
            alternate = String(decoding: data, as: UTF8.self)
        } else if let json = try loadJSON("chat_template.json", required: false) {
            alternate = json["chat_template"] as? String
        }
        let special = SpecialTokens(tokenizer: tokenizer, tokenizerConfig: tokenizerConfig, config: config, vocabSize: vocabSize,
                                    alternateTemplate: alternate)
        let merges = try TokenizerConverter.merges(model)
        if !merges.isEmpty { out.append(GGUFKeyValue("tokenizer.ggml.merges", .array(.string, merges.map { .string($0) }))) }
        out += special.keys()
        return out
    }

    /// llama.cpp's `does_token_look_special`.
    static func looksSpecial(_ t: String) -> Bool {
        if ["<pad>", "<mask>", "<2mass>", "[@BOS@]"].contains(t) { return true }
        if t.hasPrefix("<|") && t.hasSuffix("|>") { return true }
        if t.hasPrefix("<\u{FF5C}") && t.hasSuffix("\u{FF5C}>") { return true }
        return t.hasPrefix("<unused") && t.hasSuffix(">")
    }

    /// `model.merges` as `"a b"` strings; the pair form (transformers ≥ 4.45) has spaces inside parts
    /// encoded as U+0120 so the joined string stays unambiguous.
    static func merges(_ model: [String: Any]) throws -> [String] {
        guard let list = model["merges"] as? [Any], !list.isEmpty else { return [] }
        if let strings = list as? [String] { return strings }
        return try list.map { item in
            guard let pair = item as? [String], pair.count == 2 else { throw ConvertError("tokenizer.json merges are neither strings nor pairs") }
            return pair.map { $0.replacingOccurrences(of: " ", with: "\u{0120}") }.joined(separator: " ")
        }
    }
}

/// `gguf.TokenType` values.
enum TokenType {
    static let normal: Int32 = 1, unknown: Int32 = 2, control: Int32 = 3, userDefined: Int32 = 4, unused: Int32 = 5, byte: Int32 = 6
}
