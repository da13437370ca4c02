import Testing
import DSMFormats
import DSMPull
import DSMStore
import DSMTransfer

/// Tags, split sets and filters on listings shaped like the GGUF repos people pull.
@Suite struct GGUFSelectionTests {
    static func file(_ path: String, _ size: Int64 = 1000) -> PullPlan.File {
        .init(path: path, size: size, expectation: .sha256(String(repeating: "a", count: 64)), isLFS: true, gitOid: nil)
    }

    /// bartowski's layout: one file per quantization at the top.
    static let perFile = ["README.md", ".gitattributes", "DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf", "DeepSeek-R1-Distill-Qwen-7B-Q4_K_S.gguf",
                          "DeepSeek-R1-Distill-Qwen-7B-Q8_0.gguf", "DeepSeek-R1-Distill-Qwen-7B-IQ2_M.gguf", "DeepSeek-R1-Distill-Qwen-7B-f16.gguf",
                          "DeepSeek-R1-Distill-Qwen-7B.imatrix"].map { file($0) }
    /// unsloth's layout: a folder of split parts per quantization, an importance matrix, docs.
    static let perFolder = ["README.md", "imatrix_unsloth.gguf",
                            "UD-IQ1_S/DeepSeek-R1-0528-UD-IQ1_S-00001-of-00003.gguf", "UD-IQ1_S/DeepSeek-R1-0528-UD-IQ1_S-00002-of-00003.gguf",
                            "UD-IQ1_S/DeepSeek-R1-0528-UD-IQ1_S-00003-of-00003.gguf",
                            "UD-Q2_K_XL/DeepSeek-R1-0528-UD-Q2_K_XL-00002-of-00002.gguf", "UD-Q2_K_XL/DeepSeek-R1-0528-UD-Q2_K_XL-00001-of-00002.gguf",
                            "Q4_K_M/DeepSeek-R1-0528-Q4_K_M-00001-of-00002.gguf", "Q4_K_M/DeepSeek-R1-0528-Q4_K_M-00002-of-00002.gguf"].map { file($0) }

    static func choose(_ files: [PullPlan.File], tag: String?, include: [String] = [], exclude: [String] = [],
                       imatrix: Bool = false) throws -> PullSelection {
        try PullSelection.choose(from: files, repo: "o/r", tag: tag, tagMayBeRevision: true,
                                 filter: RepoFileFilter(include: include, exclude: exclude), withImatrix: imatrix)
    }

    @Test func splitNamesAreParsed() {
        let n = GGUFFileName("UD-IQ1_S/DeepSeek-R1-0528-UD-IQ1_S-00002-of-00003.gguf")!
        #expect(n.folder == "UD-IQ1_S" && n.stem == "DeepSeek-R1-0528-UD-IQ1_S")
        #expect(n.part?.number == 2 && n.part?.count == 3)
        #expect(n.quantization == "UD-IQ1_S")
        #expect(GGUFFileName("m-00000-of-00003.gguf")?.part == nil)  // numbers count from 1 in names
        #expect(GGUFFileName("m-00004-of-00003.gguf")?.part == nil)
        #expect(GGUFFileName("README.md") == nil)
        #expect(GGUFFileName("imatrix_unsloth.gguf")?.role == .imatrix)
        #expect(GGUFFileName("mmproj-model-f16.GGUF")?.role == .mmproj)
        #expect(GGUFFileName.partName(stem: "x", number: 2, count: 12) == "x-00002-of-00012.gguf")
    }

    @Test func tagsOfBothLayouts() {
        #expect(GGUFChoices(Self.perFile).choices.map(\.label) == ["f16", "IQ2_M", "Q4_K_M", "Q4_K_S", "Q8_0"])
        let folders = GGUFChoices(Self.perFolder)
        #expect(folders.choices.map(\.label) == ["Q4_K_M", "UD-IQ1_S", "UD-Q2_K_XL"])
        #expect(folders.choices.first { $0.label == "UD-Q2_K_XL" }!.files.map(\.path).first!.hasSuffix("00001-of-00002.gguf"))
        #expect(folders.imatrices.map(\.path) == ["imatrix_unsloth.gguf"])
    }

    @Test func aTagPicksOneQuantizationWithItsSmallFiles() throws {
        let s = try Self.choose(Self.perFile, tag: "q4_k_m")
        #expect(s.files.map(\.path) == [".gitattributes", "DeepSeek-R1-Distill-Qwen-7B-Q4_K_M.gguf", "README.md"])
        #expect(s.kind == .gguf && s.label == "Q4_K_M" && s.how == "tag Q4_K_M")
        let split = try Self.choose(Self.perFolder, tag: "UD-IQ1_S")
        #expect(split.modelParts.count == 3 && split.files.count == 4)  // the parts and README.md, not the matrix
        #expect(try Self.choose(Self.perFolder, tag: "ud-iq1_s", imatrix: true).files.contains { $0.path == "imatrix_unsloth.gguf" })
    }

    @Test func noTagMeansQ4KMElseTheOnlyChoiceElseAnErrorListingTags() throws {
        #expect(try Self.choose(Self.perFile, tag: nil).label == "Q4_K_M")
        #expect(try Self.choose([Self.file("model-Q8_0.gguf")], tag: nil).label == "Q8_0")
        #expect(try Self.choose([Self.file("Q8/model-Q8_0.gguf")], tag: nil).label == "Q8")  // a folder of one model names it
        let twoWithout = [Self.file("m-Q8_0.gguf", 2 << 30), Self.file("m-Q6_K.gguf")]
        #expect(throws: PullError.self) { try Self.choose(twoWithout, tag: nil) }
        do { _ = try Self.choose(twoWithout, tag: "Q5_K_M") } catch {
            #expect("\(error)".contains("Q8_0 (2.0 GiB)") && "\(error)".contains("Q6_K"))
        }
    }

    @Test func aShorterTagDoesNotNameALongerType() throws {
        #expect(throws: PullError.self) { try Self.choose(Self.perFile, tag: "Q4_K") }  // neither Q4_K_M nor Q4_K_S
        #expect(try Self.choose(Self.perFolder, tag: "IQ1_S").label == "UD-IQ1_S")      // a whole word of the path
    }

    @Test func anIncompleteSplitSetIsRefusedBeforeDownloading() {
        let missing = Self.perFolder.filter { !$0.path.hasSuffix("UD-IQ1_S-00002-of-00003.gguf") }
        do {
            _ = try Self.choose(missing, tag: "UD-IQ1_S")
            Issue.record("an incomplete set was accepted")
        } catch {
            #expect("\(error)".contains("DeepSeek-R1-0528-UD-IQ1_S-00002-of-00003.gguf"))
        }
    }

    @Test func filtersChooseFilesAsHFDownloadDoes() throws {
        let s = try Self.choose(Self.perFolder, tag: nil, include: ["UD-Q2_K_XL/*"], exclude: ["*.md"])
        #expect(s.files.count == 2 && s.kind == .gguf && s.label == "UD-Q2_K_XL")
        #expect(throws: PullError.self) { try Self.choose(Self.perFolder, tag: nil, include: ["*.gguf"]) }  // several models
        #expect(throws: PullError.self) { try Self.choose(Self.perFolder, tag: nil, include: ["nothing*"]) }
        #expect(throws: PullError.self) { try Self.choose(Self.perFolder, tag: "UD-IQ1_S", exclude: ["*00003*"]) }
        let docs = try Self.choose(Self.perFolder, tag: nil, include: ["*.md"])
        #expect(docs.kind == .checkpoint && docs.files.map(\.path) == ["README.md"])
    }

    @Test func aTagOnARepoWithoutGGUFIsTheRevision() {
        let checkpoint = ["config.json", "model.safetensors"].map { Self.file($0) }
        #expect(throws: PullSelection.TagIsRevision.self) { try Self.choose(checkpoint, tag: "v1.0") }
        #expect(throws: PullError.self) {
            try PullSelection.choose(from: checkpoint, repo: "o/r", tag: "v1.0", tagMayBeRevision: false, filter: .init(), withImatrix: false)
        }
    }

    @Test(arguments: [
        ("a/b.gguf", "*.gguf", true), ("a/b.gguf", "a/*", true), ("a/b/c", "a/", true), ("A/b", "a/*", false),
        ("x.md", "*.[mM][dD]", true), ("x.md", "*.[!m]d", false), ("[x", "[x", true), ("ab", "a?", true), ("a", "a?", false),
        ("a]b", "a[]]b", true), ("q4.gguf", "*[0-9].gguf", true), ("-", "[!-]", false),
    ])
    func globsFollowFnmatch(path: String, pattern: String, kept: Bool) {
        #expect(RepoFileFilter(include: [pattern]).keeps(path) == kept)
    }
}
