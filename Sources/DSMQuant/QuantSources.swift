import DSMQuantKernels
import DSMFormats
import DSMTensors

/// A tensor of a GGUF file as float32 rows (F32, F16 and BF16 decode exactly; quantized types dequantize).
struct GGUFTensorRows: RowSource, @unchecked Sendable {
    let bytes: UnsafeRawBufferPointer
    let type: GGMLType
    let rowLength: Int
    let rowCount: Int
    let owner: GGUFFile

    init(file: GGUFFile, tensor: GGUFTensorInfo) {
        owner = file
        bytes = file.data(tensor)
        type = tensor.type
        rowLength = Int(tensor.dimensions[0])
        rowCount = tensor.dimensions.dropFirst().reduce(1) { $0 * Int($1) }
    }

    func rows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        let rowBytes = type.byteCount(elements: rowLength)
        let slice = UnsafeRawBufferPointer(rebasing: bytes[(range.lowerBound * rowBytes)..<(range.upperBound * rowBytes)])
        Dequantizer.decode(slice, type: type, count: range.count * rowLength, into: out)
    }

    var contiguous: (bytes: UnsafeRawBufferPointer, dtype: SafetensorsDType)? { nil }
    var backing: [UnsafeRawBufferPointer] { [bytes] }
    func backing(rows range: Range<Int>) -> [UnsafeRawBufferPointer] {
        let rowBytes = type.byteCount(elements: rowLength)
        return [UnsafeRawBufferPointer(rebasing: bytes[(range.lowerBound * rowBytes)..<(range.upperBound * rowBytes)])]
    }
}

/// The rows of a converter tensor as the converted file would hold them: rounded through the converter's
/// storage type (BF16 or F16; F32 unchanged), so quantizing in one pass reads exactly the values that
/// llama-quantize reads from the file `dsm convert` writes.
struct StoredValueRows: RowSource {
    let base: any RowSource
    let storage: GGMLType
    var rowLength: Int { base.rowLength }
    var rowCount: Int { base.rowCount }
    var backing: [UnsafeRawBufferPointer] { base.backing }
    func backing(rows range: Range<Int>) -> [UnsafeRawBufferPointer] { base.backing(rows: range) }

    func rows(_ range: Range<Int>, into out: UnsafeMutablePointer<Float>) {
        base.rows(range, into: out)
        let n = range.count * rowLength
        switch storage {
        case .bf16: for i in 0..<n { out[i] = FloatBits.bf16ToFloat(FloatBits.floatToBF16(out[i])) }
        case .f16: for i in 0..<n { out[i] = FloatBits.halfToFloat(HalfConversion.bits(out[i])) }
        default: break
        }
    }
}
