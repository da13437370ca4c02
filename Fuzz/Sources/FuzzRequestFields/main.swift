import DSMServeCore
import Foundation

/// The gateway's request-body scanner (`RequestFields.scan`: `model`, `user`, `stream` of a JSON object, without
/// building the tree). Besides never trapping, it must accept every body Foundation's JSON parser reads as an
/// object with unique top-level keys, and find the same `model` and `user` strings in it. Foundation also reads a
/// comma before `}` or `]`, which RFC 8259 (and the scanner) refuse, and guesses UTF-16 or UTF-32 from NUL bytes
/// (`{\0}\0` is `{}` to it; a request body is UTF-8), so such inputs are not compared.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    let fields = RequestFields.scan(bytes)
    // The reference check is slow; run it on a sample of inputs that look like objects.
    guard size < 4096, size > 1, data[0] == UInt8(ascii: "{"), data[size - 1] == UInt8(ascii: "}"),
          !bytes.contains(0), !RequestFieldsKeyCount.hasTrailingComma(bytes),
          let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else { return 0 }
    precondition(fields != nil, "a JSON object was refused")
    let keys = RequestFieldsKeyCount.count(bytes)
    if keys == object.count {  // no duplicate keys (which a JSON parser may resolve either way)
        precondition(fields?.model == object["model"] as? String, "model \(String(describing: fields?.model)) vs \(String(describing: object["model"]))")
        precondition(fields?.user == object["user"] as? String, "user differs")
    }
    return 0
}

/// Counts top-level keys by scanning again with the same grammar (strings skipped, nesting tracked).
enum RequestFieldsKeyCount {
    /// True when a `,` outside strings is followed, after blanks, by `}` or `]`.
    static func hasTrailingComma(_ b: UnsafeRawBufferPointer) -> Bool {
        var i = 0, comma = false
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                comma = false
                i += 1
                while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
            } else if c == UInt8(ascii: ",") {
                comma = true
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                if comma { return true }
            } else if !(c == 0x20 || c == 0x0A || c == 0x0D || c == 0x09) {
                comma = false
            }
            i += 1
        }
        return false
    }

    static func count(_ b: UnsafeRawBufferPointer) -> Int {
        var depth = 0, keys = 0, i = 0, expectKey = false
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: "\"") {
                if depth == 1 && expectKey { keys += 1; expectKey = false }
                i += 1
                while i < b.count, b[i] != UInt8(ascii: "\"") { i += b[i] == UInt8(ascii: "\\") ? 2 : 1 }
            } else if c == UInt8(ascii: "{") || c == UInt8(ascii: "[") {
                depth += 1
                if depth == 1 { expectKey = true }
            } else if c == UInt8(ascii: "}") || c == UInt8(ascii: "]") {
                depth -= 1
            } else if c == UInt8(ascii: ","), depth == 1 {
                expectKey = true
            }
            i += 1
        }
        return keys
    }
}
