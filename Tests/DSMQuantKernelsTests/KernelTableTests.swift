import DSMFormats
import DSMQuantKernels
import Testing

/// The per-type rows of `BlockQuantizer` and `Dequantizer`: what is written can be read back, and every row's
/// entry point writes and reads exactly the bytes the type's `GGMLType.traits` row says.
@Suite struct KernelTableTests {
    @Test func everyWrittenTypeCanBeReadBack() {
        #expect(BlockQuantizer.targets.isSubset(of: Dequantizer.sources))
        #expect(BlockQuantizer.targets == [.f32, .f16, .bf16, .q8_0, .q4_0, .q4_1, .q5_0, .q5_1, .q4_K, .q5_K, .q6_K])
    }

    @Test(arguments: GGMLType.allCases)
    func rowsAgreeWithTheTypeTable(type: GGMLType) {
        #expect((BlockQuantizer.kernel(for: type) != nil) == BlockQuantizer.targets.contains(type))
        #expect((Dequantizer.decoder(for: type) != nil) == Dequantizer.sources.contains(type))
        guard let kernel = BlockQuantizer.kernel(for: type), let decoder = Dequantizer.decoder(for: type) else { return }
        let count = 2 * 256
        let x = (0..<count).map { Float(($0 * 37) % 101 - 50) / 25 }
        let bytes = type.byteCount(elements: count)
        // One guard byte past the end: a kernel that writes more than its row's size is caught.
        var out = [UInt8](repeating: 0xA5, count: bytes + 1)
        x.withUnsafeBufferPointer { xp in out.withUnsafeMutableBytes { kernel(xp.baseAddress!, count, $0.baseAddress!) } }
        #expect(out[bytes] == 0xA5, "\(type.name) wrote past \(bytes) bytes")
        var y = [Float](repeating: .nan, count: count)
        out.withUnsafeBytes { src in y.withUnsafeMutableBufferPointer { decoder(UnsafeRawBufferPointer(rebasing: src[..<bytes]), count, $0.baseAddress!) } }
        let worst = zip(x, y).map { abs($0 - $1) }.max() ?? .nan
        // 4-bit formats over values in [-2, 2]: within a step of 4/15; wider formats are closer.
        #expect(worst < 0.3, "\(type.name): decode(quantize(x)) is off by \(worst)")
    }
}
