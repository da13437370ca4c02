/// GGUF metadata value types (`gguf_type`).
public enum GGUFValueType: UInt32, Sendable {
    case uint8 = 0, int8 = 1, uint16 = 2, int16 = 3, uint32 = 4, int32 = 5, float32 = 6, bool = 7
    case string = 8, array = 9, uint64 = 10, int64 = 11, float64 = 12
}

/// A GGUF metadata value. Arrays are homogeneous and not nested (the C reader rejects nesting).
public enum GGUFValue: Sendable, Equatable {
    case uint8(UInt8), int8(Int8), uint16(UInt16), int16(Int16), uint32(UInt32), int32(Int32)
    case float32(Float), bool(Bool), string(String), uint64(UInt64), int64(Int64), float64(Double)
    case array(GGUFValueType, [GGUFValue])

    public var type: GGUFValueType {
        switch self {
        case .uint8: return .uint8
        case .int8: return .int8
        case .uint16: return .uint16
        case .int16: return .int16
        case .uint32: return .uint32
        case .int32: return .int32
        case .float32: return .float32
        case .bool: return .bool
        case .string: return .string
        case .uint64: return .uint64
        case .int64: return .int64
        case .float64: return .float64
        case .array: return .array
        }
    }

    /// Bit-exact equality for floats (so NaN equals NaN and -0 differs from 0), structural otherwise.
    public static func == (a: GGUFValue, b: GGUFValue) -> Bool {
        switch (a, b) {
        case (.float32(let x), .float32(let y)): return x.bitPattern == y.bitPattern
        case (.float64(let x), .float64(let y)): return x.bitPattern == y.bitPattern
        case (.uint8(let x), .uint8(let y)): return x == y
        case (.int8(let x), .int8(let y)): return x == y
        case (.uint16(let x), .uint16(let y)): return x == y
        case (.int16(let x), .int16(let y)): return x == y
        case (.uint32(let x), .uint32(let y)): return x == y
        case (.int32(let x), .int32(let y)): return x == y
        case (.bool(let x), .bool(let y)): return x == y
        case (.string(let x), .string(let y)): return x == y
        case (.uint64(let x), .uint64(let y)): return x == y
        case (.int64(let x), .int64(let y)): return x == y
        case (.array(let t, let x), .array(let u, let y)): return t == u && x == y
        default: return false
        }
    }
}

/// One key/value pair, in file order.
public struct GGUFKeyValue: Sendable, Equatable {
    public var key: String
    public var value: GGUFValue
    public init(_ key: String, _ value: GGUFValue) {
        self.key = key
        self.value = value
    }
}

/// A tensor's header entry: name, dimensions in ggml order (innermost first), type, and data offset
/// relative to the start of the data section.
public struct GGUFTensorInfo: Sendable, Equatable {
    public var name: String
    public var dimensions: [UInt64]
    public var type: GGMLType
    public var offset: UInt64

    public init(name: String, dimensions: [UInt64], type: GGMLType, offset: UInt64 = 0) {
        self.name = name
        self.dimensions = dimensions
        self.type = type
        self.offset = offset
    }

    public var elementCount: Int { dimensions.reduce(1) { $0 * Int($1) } }
    public var byteCount: Int { type.byteCount(elements: elementCount) }
}

extension GGUFValue {
    /// The value as an `Int` when it is an integer of any width that fits, else nil.
    public var integer: Int? {
        switch self {
        case .uint8(let v): return Int(v)
        case .int8(let v): return Int(v)
        case .uint16(let v): return Int(v)
        case .int16(let v): return Int(v)
        case .uint32(let v): return Int(v)
        case .int32(let v): return Int(v)
        case .uint64(let v): return v <= UInt64(Int.max) ? Int(v) : nil
        case .int64(let v): return Int(v)
        default: return nil
        }
    }
}
