import Foundation

/// A checkpoint's `config.json` as a JSON object, with the lookups llama.cpp's converter makes
/// (`find_hparam`: the first present key of several spellings).
public struct HFConfig: @unchecked Sendable {
    public let values: [String: Any]

    public init(values: [String: Any]) { self.values = values }

    /// Reads and parses `config.json` at `path`.
    public static func load(_ path: String) throws -> HFConfig {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ConvertError("cannot read \(path): a Hugging Face checkpoint folder needs config.json")
        }
        guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            throw ConvertError("\(path) is not a JSON object")
        }
        return HFConfig(values: object)
    }

    /// The first of `keys` that is present and not null.
    public func find(_ keys: [String]) -> Any? {
        for k in keys { if let v = values[k], !(v is NSNull) { return v } }
        return nil
    }

    public func int(_ keys: String...) -> Int? { HFConfig.int(find(keys)) }
    public func double(_ keys: String...) -> Double? { HFConfig.double(find(keys)) }
    public func string(_ keys: String...) -> String? { find(keys) as? String }
    public func bool(_ keys: String...) -> Bool? { HFConfig.bool(find(keys)) }
    public func dict(_ key: String) -> [String: Any]? { values[key] as? [String: Any] }

    /// A required integer, with a clear error naming the key.
    public func requireInt(_ keys: String...) throws -> Int {
        guard let v = HFConfig.int(find(keys)) else { throw ConvertError("config.json has no integer \(keys.joined(separator: " / "))") }
        return v
    }

    /// A non-negative integer that fits in UInt32 (every size, count and id the converter writes); nil otherwise.
    static func int(_ v: Any?) -> Int? {
        guard let n = v as? NSNumber, !HFConfig.isBool(n) else { return nil }
        let d = n.doubleValue
        return d == d.rounded() && d >= 0 && d <= Double(UInt32.max) ? n.intValue : nil
    }

    static func double(_ v: Any?) -> Double? {
        guard let n = v as? NSNumber, !HFConfig.isBool(n) else { return nil }
        return n.doubleValue
    }

    static func bool(_ v: Any?) -> Bool? {
        guard let n = v as? NSNumber, HFConfig.isBool(n) else { return nil }
        return n.boolValue
    }

    static func isBool(_ n: NSNumber) -> Bool {
        // JSONSerialization gives booleans as a distinct NSNumber subclass whose objCType is "c".
        String(cString: n.objCType) == "c" && type(of: n) != NSNumber.self
    }
}
