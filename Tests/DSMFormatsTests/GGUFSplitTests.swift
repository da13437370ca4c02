import Testing
import Foundation
import DSMFormats

@Suite struct GGUFSplitTests {
    @Test func namesFollowLlamaSplitPath() {
        #expect(GGUFSplit.fileName(stem: "DeepSeek-R1-Q4_K_M", index: 1, count: 9) == "DeepSeek-R1-Q4_K_M-00001-of-00009.gguf")
        #expect(GGUFSplit.fileName(stem: "/m/x", index: 12, count: 65535) == "/m/x-00012-of-65535.gguf")
        #expect(GGUFSplit.parse("DeepSeek-R1-Q4_K_M-00002-of-00009.gguf") == .init(stem: "DeepSeek-R1-Q4_K_M", index: 2, count: 9))
        #expect(GGUFSplit.parse("Q4_K_M/m-00001-of-00001.gguf") == .init(stem: "Q4_K_M/m", index: 1, count: 1))
        #expect(GGUFSplit.parse("a-00003-of-00003.gguf")?.fileName == "a-00003-of-00003.gguf")
    }

    @Test(arguments: ["model.gguf", "-00001-of-00002.gguf", "m-1-of-2.gguf", "m-00001-of-0002.gguf", "m-00000-of-00002.gguf",
                      "m-00003-of-00002.gguf", "m-00001-of-00000.gguf", "m-00001-of-99999.gguf", "m-00001-of-00002.GGUF",
                      "m-0000a-of-00002.gguf", "m_00001-of-00002.gguf", "m-00001_of-00002.gguf", "dir/-00001-of-00002.gguf",
                      "m-00001-of-00002.gguf.part"])
    func otherNamesAreNotParts(_ name: String) {
        #expect(GGUFSplit.parse(name) == nil)
    }

    @Test func orderPutsPartsInPlaceAndNamesWhatIsMissing() throws {
        #expect(try GGUFSplit.order(["m-00003-of-00003.gguf", "m-00001-of-00003.gguf", "m-00002-of-00003.gguf"])
            == ["m-00001-of-00003.gguf", "m-00002-of-00003.gguf", "m-00003-of-00003.gguf"])
        let missing = #expect(throws: GGUFSplitError.self) { try GGUFSplit.order(["m-00001-of-00003.gguf", "m-00003-of-00003.gguf"]) }
        #expect(missing?.description.contains("m-00002-of-00003.gguf") == true)
        #expect(missing?.description.contains("same folder") == true)
        #expect(throws: GGUFSplitError.self) { try GGUFSplit.order(["m-00001-of-00002.gguf", "n-00002-of-00002.gguf"]) }
        #expect(throws: GGUFSplitError.self) { try GGUFSplit.order(["m-00001-of-00002.gguf", "m-00002-of-00003.gguf"]) }
        #expect(throws: GGUFSplitError.self) { try GGUFSplit.order(["m-00001-of-00001.gguf", "m-00001-of-00001.gguf"]) }
        #expect(throws: GGUFSplitError.self) { try GGUFSplit.order(["model.gguf"]) }
        #expect(throws: GGUFSplitError.self) { try GGUFSplit.order([]) }
    }

    @Test func modelsFindsCompleteSetsAmongOtherFiles() {
        let names = ["README.md", "q4/m-Q4_K_M-00002-of-00002.gguf", "q4/m-Q4_K_M-00001-of-00002.gguf", "m-Q8_0.gguf",
                     "q6/m-Q6_K-00001-of-00002.gguf"]
        #expect(GGUFSplit.models(in: names) == ["q4/m-Q4_K_M": ["q4/m-Q4_K_M-00001-of-00002.gguf", "q4/m-Q4_K_M-00002-of-00002.gguf"]])
    }

    @Test func headersMustAgreeWithNames() throws {
        let names = ["m-00001-of-00002.gguf", "m-00002-of-00002.gguf"]
        let good = [GGUFSplit.Header(no: 0, count: 2, tensorsCount: 5), GGUFSplit.Header(no: 1, count: 2, tensorsCount: 5)]
        try GGUFSplit.validate(headers: good, names: names, tensors: [3, 2])
        let swapped = #expect(throws: GGUFSplitError.self) { try GGUFSplit.validate(headers: good.reversed(), names: names) }
        #expect(swapped?.description.contains("m-00001-of-00002.gguf is named as part 1 of 2 but its header says part 2 of 2") == true)
        let noKeys = GGUFSplit.Header(no: nil, count: nil, tensorsCount: nil)
        #expect(throws: GGUFSplitError.self) { try GGUFSplit.validate(headers: [good[0], noKeys], names: names) }
        #expect(throws: GGUFSplitError.self) {
            try GGUFSplit.validate(headers: [good[0], .init(no: 1, count: 3, tensorsCount: 5)], names: names)
        }
        let count = #expect(throws: GGUFSplitError.self) { try GGUFSplit.validate(headers: good, names: names, tensors: [3, 3]) }
        #expect(count?.description.contains("5 tensors") == true)
    }

    @Test func aSingleFileIsFineUnlessItClaimsMoreParts() throws {
        try GGUFSplit.validate(headers: [.init(no: nil, count: nil, tensorsCount: nil)], names: ["model.gguf"])
        try GGUFSplit.validate(headers: [.init(no: 0, count: 1, tensorsCount: 2)], names: ["m-00001-of-00001.gguf"], tensors: [2])
        try GGUFSplit.validate(headers: [.init(no: 0, count: 0, tensorsCount: 2)], names: ["merged.gguf"], tensors: [2])  // --merge output
        #expect(throws: GGUFSplitError.self) {
            try GGUFSplit.validate(headers: [.init(no: 1, count: 1, tensorsCount: 2)], names: ["m-00001-of-00001.gguf"])
        }
        let renamed = #expect(throws: GGUFSplitError.self) {
            try GGUFSplit.validate(headers: [.init(no: 0, count: 3, tensorsCount: 9)], names: ["model.gguf"])
        }
        #expect(renamed?.description.contains("model.gguf is part 1 of a 3-part split GGUF") == true)
    }

    @Test func headerReadingChecksTypes() throws {
        let kvs = [GGUFKeyValue("general.architecture", .string("qwen2")), GGUFKeyValue(GGUFSplit.noKey, .uint16(1)),
                   GGUFKeyValue(GGUFSplit.tensorsCountKey, .int32(7)), GGUFKeyValue(GGUFSplit.countKey, .uint16(3))]
        #expect(try GGUFSplit.Header(kvs: kvs, file: "m") == .init(no: 1, count: 3, tensorsCount: 7))
        #expect(try GGUFSplit.Header(kvs: [], file: "m") == .init(no: nil, count: nil, tensorsCount: nil))
        #expect(throws: GGUFSplitError.self) { try GGUFSplit.Header(kvs: [GGUFKeyValue(GGUFSplit.countKey, .uint32(3))], file: "m") }
    }
}

@Suite struct GGUFSplitPlanTests {
    /// Tensors of these sizes in bytes (F32 rows: a multiple of 4).
    func tensors(_ bytes: [Int]) -> [GGUFTensorInfo] {
        bytes.enumerated().map { GGUFTensorInfo(name: "t\($0.offset)", dimensions: [UInt64($0.element / 4)], type: .f32) }
    }

    @Test func sizeSuffixesAreDecimal() throws {
        #expect(try GGUFSplitLimit(size: "500M") == .maxBytes(500_000_000))
        #expect(try GGUFSplitLimit(size: "2G") == .maxBytes(2_000_000_000))
        for bad in ["2", "2K", "G", "-1G", "0M", "1.5G", "2g", " 2G", "99999999999G"] {
            #expect(throws: GGUFSplitError.self, "\(bad)") { try GGUFSplitLimit(size: bad) }
        }
        #expect(try GGUFSplitLimit(tensors: 1) == .maxTensors(1))
        #expect(throws: GGUFSplitError.self) { try GGUFSplitLimit(tensors: 0) }
    }

    @Test func bySizeCountsPaddedTensorBytes() throws {
        // 40 bytes pad to 64: 64 + 64 = 128 fits a 128-byte limit, a third tensor does not.
        #expect(try GGUFSplitPlan(tensors: tensors([40, 40, 40, 32]), limit: .maxBytes(128)).parts == [0..<2, 2..<4])
        // A tensor above the limit gets a part of its own; the next one starts another part.
        #expect(try GGUFSplitPlan(tensors: tensors([32, 400, 32]), limit: .maxBytes(100)).parts == [0..<1, 1..<2, 2..<3])
        #expect(try GGUFSplitPlan(tensors: tensors([32, 32]), limit: .maxBytes(1000)).parts == [0..<2])
        let first = #expect(throws: GGUFSplitError.self) { try GGUFSplitPlan(tensors: self.tensors([400, 32]), limit: .maxBytes(100)) }
        #expect(first?.description.contains("t0") == true)
    }

    @Test func byTensorCount() throws {
        #expect(try GGUFSplitPlan(tensors: tensors(Array(repeating: 32, count: 7)), limit: .maxTensors(3)).parts == [0..<3, 3..<6, 6..<7])
        #expect(try GGUFSplitPlan(tensors: tensors(Array(repeating: 32, count: 6)), limit: .maxTensors(3)).parts == [0..<3, 3..<6])
        #expect(try GGUFSplitPlan(tensors: tensors([32]), limit: .maxTensors(5)).parts == [0..<1])
    }

    @Test func partKeysComeLastWithTheCountAtTheEnd() {
        let kvs = [GGUFKeyValue("general.architecture", .string("qwen2")), GGUFKeyValue(GGUFSplit.countKey, .uint16(0)),
                   GGUFKeyValue("general.file_type", .uint32(1))]
        let split = [GGUFKeyValue(GGUFSplit.noKey, .uint16(0)), GGUFKeyValue(GGUFSplit.tensorsCountKey, .int32(9)),
                     GGUFKeyValue(GGUFSplit.countKey, .uint16(3))]
        #expect(GGUFSplitPlan.kvs(kvs, part: 0, count: 3, tensors: 9) == [kvs[0], kvs[2]] + split)
        #expect(GGUFSplitPlan.kvs(kvs, part: 2, count: 3, tensors: 9).map(\.key) == [GGUFSplit.noKey, GGUFSplit.tensorsCountKey, GGUFSplit.countKey])
        #expect(GGUFSplitPlan.kvs(kvs, part: 2, count: 3, tensors: 9)[0].value == .uint16(2))
    }

    @Test func splitWriterPartsReadBackAsTheModel() throws {
        let dir = NSTemporaryDirectory() + "dsm-split-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let infos = tensors([40, 64, 12, 128])
        let kvs = [GGUFKeyValue("general.architecture", .string("qwen2"))]
        let writer = try GGUFSplitWriter(prefix: dir + "/m", kvs: kvs, tensors: infos, limit: .maxTensors(3))
        for (i, t) in infos.enumerated() {
            try [UInt8](repeating: UInt8(i + 1), count: t.byteCount).withUnsafeBytes { try writer.write(tensor: i, at: 0, $0) }
        }
        let files = try writer.commit()
        #expect(files.map { ($0.path as NSString).lastPathComponent } == ["m-00001-of-00002.gguf", "m-00002-of-00002.gguf"])
        #expect(files.map(\.bytes) == files.map { Int((try? FileManager.default.attributesOfItem(atPath: $0.path)[.size] as? Int) ?? -1) })
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).sorted() == files.map { ($0.path as NSString).lastPathComponent })

        let model = try GGUFModel(parts: files.map { GGUFModel.Part(name: ($0.path as NSString).lastPathComponent, path: $0.path) })
        #expect(model.tensors.map(\.info.name) == infos.map(\.name))
        #expect(model.kvs == GGUFSplitPlan.kvs(kvs, part: 0, count: 2, tensors: 4))
        for (i, t) in model.tensors.enumerated() { #expect(Array(t.file.data(t.info)) == [UInt8](repeating: UInt8(i + 1), count: infos[i].byteCount)) }

        let swapped = files.reversed().enumerated().map { GGUFModel.Part(name: GGUFSplit.fileName(stem: "m", index: $0.offset + 1, count: 2), path: $0.element.path) }
        #expect(throws: GGUFSplitError.self) { try GGUFModel(parts: swapped) }
    }
}
