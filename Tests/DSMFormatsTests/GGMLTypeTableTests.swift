import DSMFormats
import Foundation
import Testing

/// `GGMLType.traits` against ggml's own table (Vectors/ggml_types.json, written from libggml by
/// scripts/gen_ggml_types.py and re-derived live by test_kernel_vectors_live.py on every `make test`).
@Suite struct GGMLTypeTableTests {
    struct GGMLRow: Decodable {
        let id: UInt32
        let name: String
        let block: Int
        let bytes: Int
    }

    static func ggmlRows() throws -> [UInt32: GGMLRow] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Vectors/ggml_types.json")
        let rows = try JSONDecoder().decode([GGMLRow].self, from: Data(contentsOf: url))
        return Dictionary(uniqueKeysWithValues: rows.map { ($0.id, $0) })
    }

    @Test func everyTypeMatchesGGML() throws {
        let ggml = try Self.ggmlRows()
        #expect(ggml.count >= 30, "the ggml table looks truncated: \(ggml.count) rows")
        for type in GGMLType.allCases {
            let row = try #require(ggml[type.rawValue], "ggml has no type with id \(type.rawValue) (\(type.name))")
            // ggml spells them `q4_K`; dsm prints them as llama.cpp's tools do in tables and file-type names (`Q4_K`).
            #expect(type.name == row.name.uppercased(), "id \(type.rawValue)")
            #expect(type.blockSize == row.block, "\(type.name) block size")
            #expect(type.blockBytes == row.bytes, "\(type.name) bytes per block")
        }
    }

    @Test func byteCountUsesTheRow() {
        #expect(GGMLType.q4_K.byteCount(elements: 4096) == 16 * 144)
        #expect(GGMLType.bf16.byteCount(elements: 3) == 6)
    }
}
