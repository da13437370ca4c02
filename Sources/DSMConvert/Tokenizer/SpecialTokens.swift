import DSMFormats

/// Special token ids, add_* flags and the chat template, found the way gguf-py's `SpecialVocab` finds them:
/// the tokenizer.json post-processor first (which tokens it adds), then tokenizer_config.json
/// (`add_<type>_token`, `<type>_token` matched against `added_tokens`), then config.json `<type>_token_id`.
/// The first value found for a type wins; the keys keep that order of discovery.
struct SpecialTokens {
    private(set) var ids: [(type: String, id: Int)] = []
    private(set) var add: [(type: String, value: Bool)] = []
    private(set) var chatTemplate: String?
    private var types = ["bos", "eos", "unk", "sep", "pad", "cls", "mask"]

    /// `alternateTemplate`: `chat_template.jinja`, else `chat_template.json`'s template, used when
    /// tokenizer_config.json has none (as recent transformers versions save it).
    init(tokenizer: [String: Any], tokenizerConfig: [String: Any]?, config: HFConfig, vocabSize: Int, alternateTemplate: String? = nil) {
        var tc = tokenizerConfig
        let added = (tokenizer["added_tokens"] as? [[String: Any]]) ?? []
        var bos = tc?["bos_token"].flatMap(SpecialTokens.content), cls = tc?["cls_token"].flatMap(SpecialTokens.content)
        var eos = tc?["eos_token"].flatMap(SpecialTokens.content)
        let sep = tc?["sep_token"].flatMap(SpecialTokens.content)
        if bos == nil, let cls, tc != nil { tc!["bos_token"] = cls; bos = cls }
        if eos == nil, let sep, tc != nil { tc!["eos_token"] = sep; eos = sep }

        if let post = tokenizer["post_processor"] as? [String: Any] {
            let processors = (post["processors"] as? [[String: Any]]) ?? [post]
            for p in processors {
                switch p["type"] as? String {
                case "ByteLevel":
                    setAdd("bos", false, onlyIfAbsent: true)
                    setAdd("eos", false, onlyIfAbsent: true)
                case "RobertaProcessing":
                    setAdd("bos", true); setAdd("eos", true); setAdd("sep", true)
                case "TemplateProcessing":
                    let single = (p["single"] as? [[String: Any]]) ?? []
                    var first: String?, last: String?
                    if single.count > 1 {
                        first = SpecialTokens.specialID(single.first!)
                        if let f = first {
                            if tc == nil { bos = f } else if f != bos && f != cls {
                                if bos == nil { tc!["bos_token"] = f; bos = f }
                                if cls == nil { tc!["cls_token"] = f; cls = f }
                            }
                            setAdd("bos", f == bos || f == cls)
                        }
                        last = SpecialTokens.specialID(single.last!)
                        if let l = last {
                            if tc == nil { eos = l } else if l != eos {
                                if !types.contains("eot") { types.append("eot"); tc!["eot_token"] = eos }
                                else if !types.contains("eom") { types.append("eom"); tc!["eom_token"] = eos }
                                tc!["eos_token"] = l
                                eos = l
                            }
                            setAdd("eos", l == eos)
                        }
                    }
                    var pair = (p["pair"] as? [[String: Any]]) ?? []
                    if !pair.isEmpty {
                        let start = first != nil && SpecialTokens.specialID(pair[0]) == first ? 1 : 0
                        let stopDrop = last != nil && SpecialTokens.specialID(pair[pair.count - 1]) == last ? 1 : 0
                        pair = start <= pair.count - stopDrop ? Array(pair[start..<(pair.count - stopDrop)]) : []
                        if !pair.isEmpty {
                            let a = (pair.first!["Sequence"] as? [String: Any])?["id"] as? String
                            let b = (pair.last!["Sequence"] as? [String: Any])?["id"] as? String
                            if a == "A", b == "B", pair.count > 2 {
                                let middle = Array(pair[1..<(pair.count - 1)])
                                var addSep = false
                                if let entry = SpecialTokens.specialID(middle[0]) {
                                    if (entry == sep || entry == eos) && last == nil { addSep = true }
                                    if middle.count == 2, let second = SpecialTokens.specialID(middle[1]), second == sep || second == eos { addSep = true }
                                }
                                setAdd("sep", addSep)
                                if addSep && sep == nil && tc != nil { tc!["sep_token"] = eos }
                            }
                        }
                    }
                default:
                    break
                }
            }
        }
        if let tc {
            chatTemplate = tc["chat_template"] != nil ? tc["chat_template"] as? String : alternateTemplate
            for type in types {
                if let flag = tc["add_\(type)_token"] as? Bool { setAdd(type, flag, onlyIfAbsent: true) }
                guard let content = tc["\(type)_token"].flatMap(SpecialTokens.content) else { continue }
                let id = added.first { ($0["content"] as? String) == content }.flatMap { HFConfig.int($0["id"]) }
                setID(type, id, vocabSize: vocabSize)
            }
        }
        for type in types { setID(type, HFConfig.int(config.values["\(type)_token_id"]), vocabSize: vocabSize) }
    }

    private mutating func setAdd(_ type: String, _ value: Bool, onlyIfAbsent: Bool = false) {
        if let i = add.firstIndex(where: { $0.type == type }) {
            if !onlyIfAbsent { add[i].value = value }
        } else {
            add.append((type, value))
        }
    }

    private mutating func setID(_ type: String, _ id: Int?, vocabSize: Int) {
        guard let id, id >= 0, id < vocabSize, !ids.contains(where: { $0.type == type }) else { return }
        ids.append((type, id))
    }

    static func content(_ v: Any) -> String? {
        if let s = v as? String { return s }
        return (v as? [String: Any])?["content"] as? String
    }

    static func specialID(_ item: [String: Any]) -> String? {
        let id = (item["SpecialToken"] as? [String: Any])?["id"] as? String
        return id?.isEmpty == false ? id : nil
    }

    /// GGUF keys in gguf-py's order: ids, add flags, chat template. Types without a GGUF key (cls) are skipped.
    func keys() -> [GGUFKeyValue] {
        let idKeys = ["bos": "bos_token_id", "eos": "eos_token_id", "unk": "unknown_token_id", "sep": "seperator_token_id",
                      "pad": "padding_token_id", "mask": "mask_token_id", "eot": "eot_token_id", "eom": "eom_token_id"]
        var out: [GGUFKeyValue] = []
        for (type, id) in ids { if let k = idKeys[type] { out.append(GGUFKeyValue("tokenizer.ggml.\(k)", .uint32(UInt32(id)))) } }
        for (type, value) in add where ["bos", "eos", "sep"].contains(type) {
            out.append(GGUFKeyValue("tokenizer.ggml.add_\(type)_token", .bool(value)))
        }
        if let chatTemplate, !chatTemplate.isEmpty { out.append(GGUFKeyValue("tokenizer.chat_template", .string(chatTemplate))) }
        return out
    }
}
