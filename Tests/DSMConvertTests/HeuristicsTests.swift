import Testing
import DSMConvert

@Suite struct NameHeuristicsTests {
    @Test func repoNamesSplitLikeGGUFPy() {
        let c = ModelNameHeuristics.components("DeepSeek-R1-Distill-Qwen-7B", totalParams: 7_615_616_512)
        #expect(c.basename == "DeepSeek-R1-Distill-Qwen")
        #expect(c.sizeLabel == "7B")
        #expect(c.finetune == nil)
        // A tiny fixture under a 7B name: the label is far from the real size, so it becomes a finetune.
        let tiny = ModelNameHeuristics.components("DeepSeek-R1-Distill-Qwen-7B", totalParams: 79_000_000)
        #expect(tiny.finetune == "7b" && tiny.sizeLabel == nil)
        let v = ModelNameHeuristics.components("deepseek-ai/DeepSeek-V2-Lite-Chat", totalParams: 15_700_000_000)
        // Expected values below are what gguf-py 0.19.0 returns for the same inputs.
        #expect(v.organization == "deepseek-ai" && v.fullName == "DeepSeek-V2-Lite-Chat")
        #expect(v.basename == "DeepSeek-V2-Lite" && v.finetune == "Chat")
        #expect(ModelNameHeuristics.components("DeepSeek-V2-Lite", totalParams: 1).basename == nil)  // too ambiguous
        let l = ModelNameHeuristics.components("Llama-3-8B-Instruct-v0.2", totalParams: 8_000_000_000)
        #expect(l.basename == "Llama-3" && l.finetune == "Instruct" && l.version == "v0.2" && l.sizeLabel == "8B")
    }

    @Test func titles() {
        #expect(ModelNameHeuristics.title("DeepSeek-R1-Distill-Qwen-7B") == "DeepSeek R1 Distill Qwen 7B")
        #expect(ModelNameHeuristics.title("tiny-qwen2-odd") == "Tiny Qwen2 Odd")
        #expect(ModelNameHeuristics.title("qwen2x-v1.5") == "Qwen2X v1.5")
        #expect(ModelNameHeuristics.title("deepseek-ai") == "Deepseek Ai")
    }

    @Test func sizeLabels() {
        #expect(ModelNameHeuristics.sizeLabel(total: 79_000_000, shared: 0, expertParams: 0, expertCount: 0) == "79M")
        #expect(ModelNameHeuristics.sizeLabel(total: 7_615_616_512, shared: 0, expertParams: 0, expertCount: 0) == "7.6B")
        #expect(ModelNameHeuristics.sizeLabel(total: 0, shared: 80_000_000, expertParams: 4_000_000, expertCount: 4) == "4x84M")
        #expect(ModelNameHeuristics.sizeLabel(total: 671_000_000_000, shared: 0, expertParams: 0, expertCount: 0) == "671B")
    }

    @Test func modelCardFrontMatter() {
        let card = ModelCard(readme: """
        ---
        license: other
        license_name: deepseek
        base_model:
        - deepseek-ai/DeepSeek-V3
        tags: [a, "b"]
        pipeline_tag: text-generation
        nested:
          key: value
        ---
        # Title
        license: not-front-matter
        """)
        #expect(card.string("license") == "other")
        #expect(card.list("base_model") == ["deepseek-ai/DeepSeek-V3"])
        #expect(card.list("tags") == ["a", "b"])
        #expect(card.values["nested"] == .other)
        #expect(ModelCard(readme: "# no front matter\nlicense: mit").values.isEmpty)
    }
}

@Suite struct OutTypeTests {
    @Test func names() {
        #expect(OutType(rawValue: "bf16") == .bf16)
        #expect(OutType(rawValue: "q8_0") == nil)
    }
}
