import DSMFormats

/// Produces an output tensor's values as float32, row by row (a row is `rowLength` = ne[0] elements),
/// from checkpoint tensors read in place. Reordering (Q/K permutation, the MLA split, expert stacking)
/// and dequantization (FP8 block scales) are row sources too, so every tensor streams the same way.
public protocol RowSource: Sendable {
    var rowLength: Int { get }
    var rowCount: Int { get }
    /// Writes rows `range` (each `rowLength` floats) to `out`.
    func rows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>)
    /// The source bytes and dtype when the output is exactly the source in order (a fast path that skips
    /// float32 staging), else nil.
    var contiguous: (bytes: UnsafeRawBufferPointer, dtype: SafetensorsDType)? { get }
    /// Mapped checkpoint bytes this source reads, released once the tensor is written.
    var backing: [UnsafeRawBufferPointer] { get }
    /// The mapped bytes that rows `range` read and no other row needs, released as soon as those rows are
    /// written (empty when rows share their input, as in a transpose).
    func backing(rows range: Range<Int>) -> [UnsafeRawBufferPointer]
}

extension RowSource {
    public var contiguous: (bytes: UnsafeRawBufferPointer, dtype: SafetensorsDType)? { nil }
    public var backing: [UnsafeRawBufferPointer] { [] }
    public func backing(rows range: Range<Int>) -> [UnsafeRawBufferPointer] { [] }
    public var elementCount: Int { rowLength * rowCount }
}

/// Decodes element `i` of a little-endian buffer of `dtype` to float32 (exact for F32/F16/BF16/F8_E4M3).
@inline(__always)
public func loadFloat(_ bytes: UnsafeRawBufferPointer, _ i: Int, _ dtype: SafetensorsDType) -> Float {
    switch dtype {
    case .f32: return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 4, as: UInt32.self)))
    case .bf16: return FloatBits.bf16ToFloat(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
    case .f16: return FloatBits.halfToFloat(UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: i * 2, as: UInt16.self)))
    case .f8e4m3: return FloatBits.f8e4m3Table[Int(bytes[i])]
    default: preconditionFailure("not a float dtype: \(dtype)")
    }
}

/// A checkpoint tensor viewed as rows of its last dimension (numpy row-major = ggml ne[0] innermost).
public struct TensorRows: RowSource, @unchecked Sendable {
    public let bytes: UnsafeRawBufferPointer
    public let dtype: SafetensorsDType
    public let rowLength: Int
    public let rowCount: Int
    /// Keeps the memory mapping that `bytes` points into alive.
    let owner: AnyObject?

    public init(bytes: UnsafeRawBufferPointer, dtype: SafetensorsDType, shape: [Int], owner: AnyObject? = nil) {
        self.owner = owner
        self.bytes = bytes
        self.dtype = dtype
        rowLength = shape.last ?? 1
        rowCount = shape.isEmpty ? 1 : shape.dropLast().reduce(1, *)
    }

    public func rows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let start = range.lowerBound * rowLength
        for i in 0..<(range.count * rowLength) { out[i] = loadFloat(bytes, start + i, dtype) }
    }

    public var contiguous: (bytes: UnsafeRawBufferPointer, dtype: SafetensorsDType)? { (bytes, dtype) }
    public var backing: [UnsafeRawBufferPointer] { [bytes] }
    public func backing(rows range: Range<Int>) -> [UnsafeRawBufferPointer] {
        let width = dtype.bits / 8
        return [UnsafeRawBufferPointer(rebasing: bytes[(range.lowerBound * rowLength * width)..<(range.upperBound * rowLength * width)])]
    }
}

/// Rows of `base` in another order: output row `r` is base row `map(r)`.
public struct PermutedRows: RowSource {
    public let base: any RowSource
    public let map: @Sendable (Int) -> Int
    public init(base: any RowSource, map: @escaping @Sendable (Int) -> Int) {
        self.base = base
        self.map = map
    }
    public var rowLength: Int { base.rowLength }
    public var rowCount: Int { base.rowCount }
    public var backing: [UnsafeRawBufferPointer] { base.backing }

    public func rows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        for (k, r) in range.enumerated() { base.rows(map(r)..<(map(r) + 1), into: out + k * rowLength) }
    }
}

/// Several sources of equal row length, one after the other (MoE experts stacked on a new outer axis).
public struct StackedRows: RowSource {
    public let parts: [any RowSource]
    public let rowLength: Int
    public let rowsPerPart: Int
    public var rowCount: Int { rowsPerPart * parts.count }
    public var backing: [UnsafeRawBufferPointer] { parts.flatMap(\.backing) }

    public func backing(rows range: Range<Int>) -> [UnsafeRawBufferPointer] {
        var out: [UnsafeRawBufferPointer] = []
        var r = range.lowerBound
        while r < range.upperBound {
            let part = r / rowsPerPart, inner = r % rowsPerPart
            let n = min(range.upperBound - r, rowsPerPart - inner)
            out += parts[part].backing(rows: inner..<(inner + n))
            r += n
        }
        return out
    }

    public init(_ parts: [any RowSource]) {
        precondition(!parts.isEmpty)
        self.parts = parts
        rowLength = parts[0].rowLength
        rowsPerPart = parts[0].rowCount
        precondition(parts.allSatisfy { $0.rowLength == rowLength && $0.rowCount == rowsPerPart }, "stacked tensors differ in shape")
    }

    public func rows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        var r = range.lowerBound
        var dst = out
        while r < range.upperBound {
            let part = r / rowsPerPart, inner = r % rowsPerPart
            let n = min(range.upperBound - r, rowsPerPart - inner)
            parts[part].rows(inner..<(inner + n), into: dst)
            dst += n * rowLength
            r += n
        }
    }
}

/// Values computed by the converter itself (for example Llama 3's `rope_freqs`).
public struct GeneratedRows: RowSource {
    public let values: [Float]
    public init(values: [Float]) { self.values = values }
    public var rowLength: Int { values.count }
    public var rowCount: Int { 1 }
    public func rows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        precondition(range == 0..<1)
        for (i, v) in values.enumerated() { out[i] = v }
    }
}

/// Any element mapping: output element (row, column) is `value(row, column)`; used for transposes.
public struct GatheredRows: RowSource {
    public let rowLength: Int
    public let rowCount: Int
    public let value: @Sendable (Int, Int) -> Float

    public init(rowLength: Int, rowCount: Int, value: @escaping @Sendable (Int, Int) -> Float) {
        self.rowLength = rowLength
        self.rowCount = rowCount
        self.value = value
    }

    public func rows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        fillRows(range, into: out, value: value)
    }
}

extension RowSource {
    /// Writes rows `range` element by element from `value(row, column)`.
    @inline(__always)
    public func fillRows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>, value: (Int, Int) -> Float) {
        var k = 0
        for r in range {
            for c in 0..<rowLength {
                out[k] = value(r, c)
                k += 1
            }
        }
    }
}
