import Testing
import Foundation
import DSMQuant

/// Known answers from the gguf package's numpy quantizers (scripts/gen_quant_vectors.py): random rows at
/// three scales, zeros, constants, huge and tiny magnitudes, exact ties and integer ramps.
@Suite struct LegacyQuantizerTests {
    static func vector(_ name: String) throws -> [UInt8] {
        let url = try #require(Bundle.module.url(forResource: name, withExtension: nil, subdirectory: "Vectors"))
        return Array(try Data(contentsOf: url))
    }

    static func input() throws -> [Float] {
        try vector("input.f32").withUnsafeBytes { Array($0.bindMemory(to: Float.self)) }
    }

    @Test(arguments: [
        ("Q8_0.bin", 34, LegacyQuantizers.q8_0 as @Sendable (UnsafePointer<Float>, Int, UnsafeMutableRawPointer) -> Void),
        ("Q4_0.bin", 18, LegacyQuantizers.q4_0), ("Q4_1.bin", 20, LegacyQuantizers.q4_1),
        ("Q5_0.bin", 22, LegacyQuantizers.q5_0), ("Q5_1.bin", 24, LegacyQuantizers.q5_1),
    ])
    func bytesEqualGGUFPy(file: String, blockBytes: Int, quantize: @Sendable (UnsafePointer<Float>, Int, UnsafeMutableRawPointer) -> Void) throws {
        let x = try Self.input()
        let expected = try Self.vector(file)
        var got = [UInt8](repeating: 0xEE, count: x.count / 32 * blockBytes)
        x.withUnsafeBufferPointer { src in got.withUnsafeMutableBytes { quantize(src.baseAddress!, src.count, $0.baseAddress!) } }
        let firstDiff = zip(got, expected).enumerated().first { $0.element.0 != $0.element.1 }?.offset
        #expect(got == expected, "\(file): first differing byte \(firstDiff.map { "\($0) (block \($0 / blockBytes))" } ?? "none")")
    }
}
