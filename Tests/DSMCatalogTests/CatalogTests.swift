import Testing
import DSMCatalog

@Suite struct CatalogTests {
    let catalog = try! Catalog.load(environment: [:])

    @Test func bundledCatalogCoversTheRequiredFamilies() {
        for family in ["deepseek-r1", "deepseek-v3", "deepseek-v2", "deepseek-coder-v2", "deepseek-coder", "deepseek-llm"] {
            #expect(catalog.families[family] != nil, "missing family \(family)")
        }
    }

    @Test(arguments: [
        ("deepseek-r1", "1.5b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B", "Qwen2ForCausalLM"),
        ("deepseek-r1", "7b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B", "Qwen2ForCausalLM"),
        ("deepseek-r1", "8b", "deepseek-ai/DeepSeek-R1-0528-Qwen3-8B", "Qwen3ForCausalLM"),
        ("deepseek-r1", "latest", "deepseek-ai/DeepSeek-R1-0528-Qwen3-8B", "Qwen3ForCausalLM"),
        ("deepseek-r1", "8b-llama", "deepseek-ai/DeepSeek-R1-Distill-Llama-8B", "LlamaForCausalLM"),
        ("deepseek-r1", "14b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-14B", "Qwen2ForCausalLM"),
        ("deepseek-r1", "32b", "deepseek-ai/DeepSeek-R1-Distill-Qwen-32B", "Qwen2ForCausalLM"),
        ("deepseek-r1", "70b", "deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "LlamaForCausalLM"),
        ("deepseek-r1", "671b", "deepseek-ai/DeepSeek-R1", "DeepseekV3ForCausalLM"),
        ("deepseek-r1", "671b-0528", "deepseek-ai/DeepSeek-R1-0528", "DeepseekV3ForCausalLM"),
    ])
    func r1Tags(family: String, tag: String, repo: String, arch: String) throws {
        let m = try #require(catalog.lookup(family: family, tag: tag))
        #expect(m.entry.repo == repo)
        #expect(m.entry.architecture == arch)
        #expect(m.entry.defaultQuantization == "Q4_K_M")
    }

    @Test func defaultTagAndAliases() throws {
        #expect(catalog.lookup(family: "deepseek-r1", tag: nil)?.tag == "8b")
        #expect(catalog.lookup(family: "deepseek-r1", tag: "7b-qwen-distill")?.canonicalName == "deepseek-r1:7b")
        #expect(catalog.lookup(family: "deepseek-r1", tag: "nope") == nil)
        #expect(catalog.lookup(family: "nope", tag: nil) == nil)
    }

    @Test func hardwareHintsFollowTheReferenceTable() throws {
        let h7 = try #require(catalog.lookup(family: "deepseek-r1", tag: "7b")).entry.hardware
        #expect((h7.cpuCores, h7.ramGB, h7.gpuVramGB, h7.diskGB) == (8, 16, 8, 50))
        let h671 = try #require(catalog.lookup(family: "deepseek-r1", tag: "671b")).entry.hardware
        #expect((h671.ramGB, h671.gpuCount, h671.gpuVramGB) == (512, 8, 80))
        let m = try #require(catalog.lookup(family: "deepseek-r1", tag: "671b")).entry
        #expect(m.sourceDtype == "F8_E4M3")
    }

    @Test func unsupportedSchemaIsRefused() {
        let json = #"{"schema": 2, "family": "x", "default_tag": "a", "tags": {}}"#
        #expect(throws: Catalog.LoadError.self) { try Catalog.parse([("x.json", Array(json.utf8))]) }
    }

    @Test func v4IsPullableButNotConvertible() throws {
        let fam = try #require(catalog.families["deepseek-v4"])
        #expect(fam.tags.values.allSatisfy { !$0.convertible })
    }

    @Test func suggestions() {
        #expect(catalog.suggestions(for: "deepseek-r1:9b").contains("deepseek-r1:7b"))
    }
}
