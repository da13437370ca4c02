import Testing
import Foundation
import DSMFormats

@Suite struct GGUFTests {
    @Test func headerBytesFollowTheSpec() {
        let bytes = GGUFEncoder.header(kvs: [GGUFKeyValue("general.architecture", .string("qwen2"))],
                                       tensors: [GGUFTensorInfo(name: "t", dimensions: [4, 2], type: .f32)])
        #expect(Array(bytes[0..<4]) == Array("GGUF".utf8))
        #expect(bytes[4] == 3 && bytes[5] == 0)
        #expect(bytes.count % 32 == 0)
    }

    @Test func offsetsArePaddedToTheAlignment() {
        let (laid, size) = GGUFLayout.assignOffsets([
            GGUFTensorInfo(name: "a", dimensions: [3], type: .f32),      // 12 bytes
            GGUFTensorInfo(name: "b", dimensions: [64], type: .f16),     // 128 bytes
            GGUFTensorInfo(name: "c", dimensions: [32], type: .q8_0),    // 34 bytes
        ])
        #expect(laid.map(\.offset) == [0, 32, 160])
        #expect(size == 224)
    }

    @Test func writeThenReadRoundTripsEveryValueType() throws {
        let path = NSTemporaryDirectory() + "dsm-gguf-\(UUID().uuidString).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let kvs: [GGUFKeyValue] = [
            .init("u8", .uint8(255)), .init("i8", .int8(-3)), .init("u16", .uint16(65535)), .init("i16", .int16(-2)),
            .init("u32", .uint32(7)), .init("i32", .int32(-7)), .init("f32", .float32(0.6)), .init("b", .bool(true)),
            .init("s", .string("ü中")), .init("u64", .uint64(1 << 40)), .init("i64", .int64(-1)), .init("f64", .float64(1e-300)),
            .init("arr", .array(.string, [.string("a"), .string("")])), .init("ints", .array(.int32, [.int32(1), .int32(-1)])),
        ]
        let tensors = [GGUFTensorInfo(name: "w", dimensions: [8, 2], type: .f16), GGUFTensorInfo(name: "n", dimensions: [3], type: .f32)]
        let writer = try GGUFFileWriter(destination: path, kvs: kvs, tensors: tensors)
        try [UInt8](repeating: 0xAB, count: 32).withUnsafeBytes { try writer.write(tensor: 0, at: 0, $0) }
        try [UInt8](repeating: 0xCD, count: 12).withUnsafeBytes { try writer.write(tensor: 1, at: 0, $0) }
        try writer.commit()

        let file = try GGUFFile(path: path)
        #expect(file.kvs == kvs)
        #expect(file.tensors.map(\.name) == ["w", "n"])
        #expect(file.tensors[1].offset == 32)
        #expect(Array(file.data(file.tensors[1])) == [UInt8](repeating: 0xCD, count: 12))
        let size = try FileManager.default.attributesOfItem(atPath: path)[.size] as! Int
        #expect(size == file.dataOffset + 64)  // the last tensor is padded too
    }

    @Test func truncatedFilesAreRefused() throws {
        let path = NSTemporaryDirectory() + "dsm-gguf-\(UUID().uuidString).gguf"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let header = GGUFEncoder.header(kvs: [], tensors: [GGUFTensorInfo(name: "w", dimensions: [1024], type: .f32)])
        FileManager.default.createFile(atPath: path, contents: Data(header + [UInt8](repeating: 0, count: 100)))
        #expect(throws: GGUFError.self) { _ = try GGUFFile(path: path) }
        FileManager.default.createFile(atPath: path, contents: Data(Array("GGUF".utf8) + [2, 0, 0, 0]))
        #expect(throws: GGUFError.self) { _ = try GGUFFile(path: path) }
    }

    @Test func abandonedWriterLeavesNothing() throws {
        let dir = NSTemporaryDirectory() + "dsm-gguf-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        do { _ = try GGUFFileWriter(destination: dir + "/x.gguf", kvs: [], tensors: []) }
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }
}

@Suite struct FloatBitsTests {
    @Test func bf16Rounding() {
        #expect(FloatBits.floatToBF16(1.0) == 0x3F80)
        #expect(FloatBits.floatToBF16(Float(bitPattern: 0x3F80_8000)) == 0x3F80)  // tie, even stays
        #expect(FloatBits.floatToBF16(Float(bitPattern: 0x3F81_8000)) == 0x3F82)  // tie, odd rounds up
        #expect(FloatBits.floatToBF16(Float(bitPattern: 0x3F80_8001)) == 0x3F81)
        #expect(FloatBits.floatToBF16(Float(bitPattern: 0x7F80_0001)) == 0x7FC0)  // signalling NaN quieted
        #expect(FloatBits.floatToBF16(.infinity) == 0x7F80)
        #expect(FloatBits.bf16ToFloat(0xC000) == -2)
    }

    @Test func halfRounding() {
        #expect(FloatBits.floatToHalf(1.0) == 0x3C00)
        #expect(FloatBits.floatToHalf(65520) == 0x7C00)            // overflow to infinity
        #expect(FloatBits.floatToHalf(0x1p-25) == 0x0000)          // tie to even (zero)
        #expect(FloatBits.floatToHalf(0x1.8p-24) == 0x0002)        // subnormal tie to even
        #expect(FloatBits.floatToHalf(-.nan).isMultiple(of: 1) && FloatBits.floatToHalf(-.nan) & 0x7C00 == 0x7C00)
        #expect(FloatBits.halfToFloat(0x3555) == Float(Float16(bitPattern: 0x3555)))
    }

    /// The integer-only conversion against the runtime's `Float16 → Float` for every half.
    @Test func halfToFloatIsExactForEveryHalf() {
        for h in 0...UInt16.max {
            let want = Float(Float16(bitPattern: h)), got = FloatBits.halfToFloat(h)
            if want.isNaN {
                #expect(got.isNaN && got.sign == want.sign, "\(h)")
            } else {
                #expect(got.bitPattern == want.bitPattern, "\(h)")
            }
        }
    }

    @Test func f8e4m3Values() {
        let t = FloatBits.f8e4m3Table
        #expect(t[0x00] == 0 && t[0x38] == 1 && t[0xB8] == -1)
        #expect(t[0x7E] == 448 && t[0xFE] == -448)
        #expect(t[0x01] == 0x1p-9)                                 // smallest subnormal
        #expect(t[0x08] == 0x1p-6)                                 // smallest normal
        #expect(t[0x7F].isNaN && t[0xFF].isNaN)
    }

    @Test func elementConversionMatchesTheScalarRules() {
        let bf16: [UInt16] = [0x3F80, 0xC000, 0x7F81, 0x0001, 0x4049]
        var f16 = [UInt16](repeating: 0, count: 5)
        var f32 = [UInt32](repeating: 0, count: 5)
        var same = [UInt16](repeating: 0, count: 5)
        bf16.withUnsafeBytes { src in
            f16.withUnsafeMutableBytes { ElementConverter.convert(src, from: .bf16, count: 5, to: .f16, into: $0) }
            f32.withUnsafeMutableBytes { ElementConverter.convert(src, from: .bf16, count: 5, to: .f32, into: $0) }
            same.withUnsafeMutableBytes { ElementConverter.convert(src, from: .bf16, count: 5, to: .bf16, into: $0) }
        }
        #expect(f32.map { Float(bitPattern: $0) }.prefix(2) == [1, -2])
        #expect(f16[0] == 0x3C00 && f16[1] == 0xC000)
        #expect(same == bf16.map { FloatBits.floatToBF16(FloatBits.bf16ToFloat($0)) })
        #expect(same[2] == 0x7FC1)
    }
}

@Suite struct HalfConversionTests {
    /// The eight-lane conversion must equal the scalar reference on every kind of value.
    @Test func lanesMatchTheScalarReference() {
        var inputs: [Float] = [0, -0, 1, -1, 65504, 65519.99, 65520, -65520, 1e-8, 5.96e-8, 2.98e-8, 6.1e-5, .infinity, -.infinity, .nan,
                               Float(bitPattern: 0x7F80_0001), Float(bitPattern: 0xFFC0_1234), .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        var x: UInt32 = 0x1234_5678
        for _ in 0..<200_000 {
            x = x &* 1_664_525 &+ 1_013_904_223
            inputs.append(Float(bitPattern: x))
        }
        for e in 100...145 {  // dense around the half range
            for m in stride(from: UInt32(0), to: 1 << 23, by: 4093) { inputs.append(Float(bitPattern: UInt32(e) << 23 | m)) }
        }
        var fast = [UInt16](repeating: 0, count: inputs.count)
        inputs.withUnsafeBufferPointer { src in fast.withUnsafeMutableBufferPointer { HalfConversion.convert(src.baseAddress!, count: src.count, into: $0.baseAddress!) } }
        let mismatches = zip(inputs, fast).filter { FloatBits.floatToHalf($0) != $1 }
        #expect(mismatches.isEmpty, "first mismatch: \(mismatches.first.map { String($0.0.bitPattern, radix: 16) + " -> " + String($0.1, radix: 16) } ?? "")")
    }
}
