import Testing
import DSMFormats

/// Inputs the fuzz targets (Fuzz/, docs/security.md "Fuzzing") found trapping or exhausting memory, each kept as a
/// test that the parser now refuses with an error.
@Suite struct GGUFFuzzRegressionTests {
    /// A GGUF v3 header: magic, version, counts, then `body`.
    func header(tensors: UInt64 = 0, kvs: UInt64, _ body: [UInt8]) -> [UInt8] {
        Array("GGUF".utf8) + le(UInt32(3)) + le(tensors) + le(kvs) + body
    }
    func le<T: FixedWidthInteger>(_ v: T) -> [UInt8] { withUnsafeBytes(of: v.littleEndian) { Array($0) } }
    func string(_ s: String) -> [UInt8] { le(UInt64(s.utf8.count)) + Array(s.utf8) }

    func parse(_ bytes: [UInt8]) throws -> GGUFHeader {
        try bytes.withUnsafeBytes { try GGUFHeader.parse($0, file: "fuzz.gguf") }
    }

    /// FuzzGGUF, oom-38d6b0…: an array claiming 2^29 elements in a 512-byte file made the reader reserve ~18 GB
    /// up front (under the old 2^30 cap) before reading any element.
    @Test func arrayCountBeyondTheFileIsRefusedBeforeAllocating() {
        let bytes = header(kvs: 1, string("tokenizer.ggml.tokens") + le(UInt32(9)) + le(UInt32(8)) + le(UInt64(1 << 29)) + string("a"))
        #expect { _ = try parse(bytes) } throws: { "\($0)".contains("runs past the end of the file") }
        let ints = header(kvs: 1, string("ints") + le(UInt32(9)) + le(UInt32(0)) + le(UInt64(5)) + [1, 2, 3, 4])
        #expect(throws: GGUFError.self) { _ = try parse(ints) }
        let fits = header(kvs: 1, string("ints") + le(UInt32(9)) + le(UInt32(0)) + le(UInt64(4)) + [1, 2, 3, 4])
        #expect((try? parse(fits))?.kvs.first?.value == .array(.uint8, [.uint8(1), .uint8(2), .uint8(3), .uint8(4)]))
    }

    /// A tensor whose dimensions multiply past Int.max trapped in `elementCount` (overflow, or a UInt64 above Int.max
    /// converted to Int); one that fits in Int but not in the file could overflow the byte and offset sums.
    @Test func tensorShapesLargerThanTheFileAreRefused() {
        for dims: [UInt64] in [[1 << 62, 4], [1 << 32, 1 << 32], [1 << 40, 8], [UInt64(Int64.max)]] {
            var tensor = string("w") + le(UInt32(dims.count))
            for d in dims { tensor += le(d) }
            tensor += le(UInt32(0)) + le(UInt64(0))  // F32 at offset 0
            #expect { _ = try parse(header(tensors: 1, kvs: 0, tensor)) } throws: { "\($0)".contains("larger than the file") }
        }
    }

    /// FuzzGGUF, crash-c825a7…: a tensor with no elements (one dimension 0) and another dimension above Int64.max
    /// passed the size check and trapped converting that dimension to Int in `elementCount`.
    @Test func dimensionsAboveInt64AreRefusedEvenWithZeroElements() {
        for dims: [UInt64] in [[0, 1 << 63], [1 << 63, 0], [0, UInt64.max, 1]] {
            var tensor = string("w") + le(UInt32(dims.count))
            for d in dims { tensor += le(d) }
            tensor += le(UInt32(0)) + le(UInt64(0))
            #expect { _ = try parse(header(tensors: 1, kvs: 0, tensor)) } throws: { "\($0)".contains("above the int64") }
        }
        var empty = string("w") + le(UInt32(2)) + le(UInt64(0)) + le(UInt64(Int64.max)) + le(UInt32(0)) + le(UInt64(0))
        empty += [UInt8](repeating: 0, count: 32)
        #expect((try? parse(header(tensors: 1, kvs: 0, empty)))?.tensors.first?.elementCount == 0)
    }
}
