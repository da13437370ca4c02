import DSMFormats
import DSMTensors

/// An F8_E4M3 weight with its `weight_scale_inv` block scales, dequantized as llama.cpp's converter does
/// (`dequant_simple`): each scale covers a `block × block` tile (edge tiles reuse the edge scale) and the
/// value is one float32 multiply, `f32(w) × scale`.
public struct FP8Rows: RowSource, @unchecked Sendable {
    public let weight: UnsafeRawBufferPointer
    public let scales: UnsafeRawBufferPointer
    public let scaleDtype: SafetensorsDType
    public let rowLength: Int
    public let rowCount: Int
    let scaleColumns: Int
    let blockRows: Int
    let blockColumns: Int
    let owner: AnyObject?

    public init(weight: UnsafeRawBufferPointer, shape: [Int], scales: UnsafeRawBufferPointer, scaleShape: [Int], scaleDtype: SafetensorsDType,
                block: [Int], owner: AnyObject?) throws {
        guard [.f32, .bf16, .f16].contains(scaleDtype) else { throw ConvertError("weight_scale_inv must be F32, BF16 or F16, not \(scaleDtype.rawValue)") }
        guard block.count == 2, block.allSatisfy({ $0 > 0 }) else { throw ConvertError("quantization_config weight_block_size must be two positive numbers, got \(block)") }
        guard shape.count == 2, scaleShape.count == 2 else {
            throw ConvertError("FP8 block dequantization needs 2-D weights and scales (got \(shape), \(scaleShape))")
        }
        guard scaleShape[0] == (shape[0] + block[0] - 1) / block[0], scaleShape[1] == (shape[1] + block[1] - 1) / block[1] else {
            throw ConvertError("weight_scale_inv shape \(scaleShape) does not match weight \(shape) with \(block) blocks")
        }
        self.weight = weight
        self.scales = scales
        self.scaleDtype = scaleDtype
        rowCount = shape[0]
        rowLength = shape[1]
        scaleColumns = scaleShape[1]
        blockRows = block[0]
        blockColumns = block[1]
        self.owner = owner
    }

    public var backing: [UnsafeRawBufferPointer] { [weight, scales] }
    public func backing(rows range: Range<Int>) -> [UnsafeRawBufferPointer] {
        [UnsafeRawBufferPointer(rebasing: weight[(range.lowerBound * rowLength)..<(range.upperBound * rowLength)])]
    }

    @inline(__always)
    public func value(_ r: Int, _ c: Int) -> Float {
        let s = loadFloat(scales, (r / blockRows) * scaleColumns + c / blockColumns, scaleDtype)
        return FloatBits.f8e4m3Table[Int(weight[r * rowLength + c])] * s
    }

    public func rows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        fillRows(range, into: out, value: value)
    }
}

/// Random access to a 2-D source (checkpoint rows or dequantized FP8), for splits and transposes.
protocol MatrixSource: RowSource {
    func value(_ r: Int, _ c: Int) -> Float
}

extension FP8Rows: MatrixSource {}

extension TensorRows: MatrixSource {
    @inline(__always)
    func value(_ r: Int, _ c: Int) -> Float { loadFloat(bytes, r * rowLength + c, dtype) }
}
