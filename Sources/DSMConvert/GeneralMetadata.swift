import Foundation
import DSMFormats
import DSMTensors

/// The `general.*` keys llama.cpp's converter writes before the hyper-parameters: sampling defaults from
/// generation_config.json, then name, basename, finetune, size label, license, base models, tags and
/// languages guessed from the model card, config.json `_name_or_path` and the folder name (gguf-py `Metadata`).
public struct GeneralMetadata {
    let files: CheckpointFiles
    let config: HFConfig

    public init(files: CheckpointFiles, config: HFConfig) {
        self.files = files
        self.config = config
    }

    /// The folder name the heuristics read (for pulled models, the repo name).
    var folderName: String { files.folderName }

    func read(_ name: String) -> Data? { files.contents(name) }

    public func keys(tensors: [PlannedTensor]) throws -> [GGUFKeyValue] {
        var out: [GGUFKeyValue] = []
        func str(_ key: String, _ value: String?) {
            if let value, !value.isEmpty { out.append(GGUFKeyValue(key, .string(value))) }
        }
        // Sampling defaults.
        if let data = read("generation_config.json"), let gen = try? JSONSerialization.jsonObject(with: data) as? [String: Any] {
            if let v = gen["sequence"] as? String { str("general.sampling.sequence", v) }
            let ints = [("top_k", "top_k"), ("penalty_last_n", "penalty_last_n"), ("mirostat", "mirostat")]
            let floats = [("top_p", "top_p"), ("min_p", "min_p"), ("xtc_probability", "xtc_probability"), ("xtc_threshold", "xtc_threshold"),
                          ("temperature", "temp"), ("penalty_repeat", "penalty_repeat"), ("mirostat_tau", "mirostat_tau"), ("mirostat_eta", "mirostat_eta")]
            let order = ["top_k", "top_p", "min_p", "xtc_probability", "xtc_threshold", "temp", "penalty_last_n", "penalty_repeat",
                         "mirostat", "mirostat_tau", "mirostat_eta"]
            var found: [String: GGUFValue] = [:]
            for (src, dst) in ints { if let v = HFConfig.int(gen[src]) { found[dst] = .int32(Int32(v)) } }
            for (src, dst) in floats { if let v = HFConfig.double(gen[src]) { found[dst] = .float32(Float(v)) } }
            if found["penalty_repeat"] == nil, let v = HFConfig.double(gen["repetition_penalty"]) { found["penalty_repeat"] = .float32(Float(v)) }
            for key in order { if let v = found[key] { out.append(GGUFKeyValue("general.sampling.\(key)", v)) } }
        }

        let counts = ParameterCount(tensors)
        var m = Fields()
        let card = read("README.md").map { ModelCard(readme: String(decoding: $0, as: UTF8.self)) } ?? ModelCard()
        m.applyCard(card, totalParams: counts.total)
        if let raw = read("config.json"), let hf = try? JSONSerialization.jsonObject(with: raw) as? [String: Any],
           let nameOrPath = hf["_name_or_path"] as? String, nameOrPath.filter({ $0 == "/" }).count <= 1 {
            m.fill(ModelNameHeuristics.components(nameOrPath, totalParams: counts.total))
        }
        m.fill(ModelNameHeuristics.components(folderName, totalParams: counts.total))
        if m.name == nil { m.name = folderName }
        if m.sizeLabel == nil && counts.total > 0 {
            m.sizeLabel = ModelNameHeuristics.sizeLabel(total: counts.total, shared: counts.shared, expertParams: counts.expert, expertCount: counts.expertCount)
        }

        str("general.name", m.name)
        str("general.author", m.author)
        str("general.version", m.version)
        str("general.organization", m.organization)
        str("general.finetune", m.finetune)
        str("general.basename", m.basename)
        str("general.description", m.description)
        str("general.size_label", m.sizeLabel)
        str("general.license", m.license)
        str("general.license.name", m.licenseName)
        str("general.license.link", m.licenseLink)
        str("general.source.url", m.sourceURL)
        str("general.source.doi", m.sourceDOI)
        str("general.source.uuid", m.sourceUUID)
        str("general.source.repo_url", m.sourceRepoURL)
        if let bases = m.baseModels {
            out.append(GGUFKeyValue("general.base_model.count", .uint32(UInt32(bases.count))))
            for (i, b) in bases.enumerated() {
                str("general.base_model.\(i).name", b.name)
                str("general.base_model.\(i).version", b.version)
                str("general.base_model.\(i).organization", b.organization)
                str("general.base_model.\(i).repo_url", b.repoURL)
            }
        }
        if let datasets = m.datasets {
            out.append(GGUFKeyValue("general.dataset.count", .uint32(UInt32(datasets.count))))
            for (i, d) in datasets.enumerated() {
                str("general.dataset.\(i).name", d.name)
                str("general.dataset.\(i).version", d.version)
                str("general.dataset.\(i).organization", d.organization)
                str("general.dataset.\(i).repo_url", d.repoURL)
            }
        }
        if let tags = m.tags, !tags.isEmpty { out.append(GGUFKeyValue("general.tags", .array(.string, tags.map { .string($0) }))) }
        if let langs = m.languages, !langs.isEmpty { out.append(GGUFKeyValue("general.languages", .array(.string, langs.map { .string($0) }))) }
        return out
    }

    /// A base model or dataset reference.
    struct Reference {
        var name, organization, version, repoURL: String?
    }

    /// The metadata fields, filled first-writer-wins as gguf-py does.
    struct Fields {
        var name, author, version, organization, description, finetune, basename, sizeLabel: String?
        var sourceURL, sourceDOI, sourceUUID, sourceRepoURL, license, licenseName, licenseLink: String?
        var baseModels: [Reference]?
        var datasets: [Reference]?
        var tags: [String]?
        var languages: [String]?

        mutating func applyCard(_ card: ModelCard, totalParams: Int) {
            func use(_ field: WritableKeyPath<Fields, String?>, _ key: String) {
                if self[keyPath: field] == nil, card.values[key] != nil { self[keyPath: field] = card.string(key) }
            }
            for (field, key) in [(\Fields.name, "name"), (\.author, "author"), (\.version, "version"), (\.organization, "organization"),
                                 (\.description, "description"), (\.finetune, "finetune"), (\.basename, "basename"), (\.sizeLabel, "size_label"),
                                 (\.sourceURL, "url"), (\.sourceDOI, "doi"), (\.sourceUUID, "uuid"), (\.sourceRepoURL, "repo_url"),
                                 (\.name, "model_name"), (\.author, "model_author"), (\.version, "model_version"),
                                 (\.organization, "model_organization"), (\.description, "model_description"), (\.finetune, "model_finetune"),
                                 (\.basename, "model_basename"), (\.sizeLabel, "model_size_label"), (\.sourceURL, "model_url"),
                                 (\.sourceDOI, "model_doi"), (\.sourceUUID, "model_uuid"), (\.sourceRepoURL, "model_repo_url"),
                                 (\.author, "model_creator"), (\.basename, "model_type")] {
                use(field, key)
            }
            if let ids = card.list("base_model") ?? card.list("base_models") ?? card.list("base_model_sources") {
                baseModels = (baseModels ?? []) + ids.map { Fields.reference($0, totalParams: totalParams) }
            } else if card.values["base_model"] != nil || card.values["base_models"] != nil || card.values["base_model_sources"] != nil {
                baseModels = baseModels ?? []
            }
            if let ids = card.list("datasets") ?? card.list("dataset") ?? card.list("dataset_sources") {
                datasets = (datasets ?? []) + ids.map { Fields.reference($0, totalParams: totalParams) }
            } else if card.values["datasets"] != nil || card.values["dataset"] != nil || card.values["dataset_sources"] != nil {
                datasets = datasets ?? []
            }
            use(\.license, "license")
            if license == nil, let list = card.list("license") { license = list.joined(separator: ",") }
            use(\.licenseName, "license_name")
            use(\.licenseLink, "license_link")
            for key in ["tags", "pipeline_tag"] { if let l = card.list(key) { tags = (tags ?? []) + l } }
            for key in ["languages", "language"] { if let l = card.list(key) { languages = (languages ?? []) + l } }
        }

        static func reference(_ id: String, totalParams: Int) -> Reference {
            var r = Reference()
            var hfID: String? = id
            if id.hasPrefix("http://") || id.hasPrefix("https://") || id.hasPrefix("ssh://") {
                r.repoURL = id
                hfID = nil
                if let range = id.range(of: #"^https?://huggingface.co/([^/]+/[^/]+)$"#, options: .regularExpression) {
                    let path = id[range].split(separator: "/").suffix(2).joined(separator: "/")
                    let c = ModelNameHeuristics.components(path, totalParams: totalParams)
                    r.name = c.fullName.map(ModelNameHeuristics.title)
                    r.organization = c.organization.map(ModelNameHeuristics.title)
                    r.version = c.version
                }
            }
            if let hfID {
                let c = ModelNameHeuristics.components(hfID, totalParams: totalParams)
                r.name = c.fullName.map(ModelNameHeuristics.title)
                r.organization = c.organization.map(ModelNameHeuristics.title)
                r.version = c.version
                if let o = c.organization, let n = c.fullName { r.repoURL = "https://huggingface.co/\(o)/\(n)" }
            }
            return r
        }

        mutating func fill(_ c: ModelNameHeuristics.Components) {
            if name == nil, let n = c.fullName { name = ModelNameHeuristics.title(n) }
            if organization == nil, let o = c.organization { organization = ModelNameHeuristics.title(o) }
            if basename == nil { basename = c.basename }
            if finetune == nil { finetune = c.finetune }
            if version == nil { version = c.version }
            if sizeLabel == nil { sizeLabel = c.sizeLabel }
        }
    }
}

/// Parameter counts over the output tensors (gguf-py `get_total_parameter_count`).
struct ParameterCount {
    var total = 0, shared = 0, expert = 0, expertCount = 0

    init(_ tensors: [PlannedTensor]) {
        var expertSum = 0, expertTensors = 0
        for t in tensors {
            let size = t.dimensions.reduce(1, *)
            let shape = Array(t.dimensions.reversed())  // numpy order
            if t.name.contains("_exps."), shape.count >= 3 {
                let n = shape[shape.count - (t.name.contains(".bias") ? 2 : 3)]
                expert += size / n
                expertSum += n
                expertTensors += 1
            } else {
                shared += size
            }
            total += size
        }
        expertCount = expertTensors > 0 ? expertSum / expertTensors : 0
    }
}
