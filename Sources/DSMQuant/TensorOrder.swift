/// The order llama-quantize writes tensors in (`weight_name_comparer` in src/llama-model-loader.h):
/// by layer number from `blk.N.` (tensors outside blocks count as layer -1), then by byte-wise name.
/// So `output.weight`, `output_norm.weight`, `token_embd.weight`, then `blk.0.*`, `blk.1.*`, … `blk.10.*`
/// in numeric order, unlike the converter's lexicographic order.
public enum TensorOrder {
    /// The layer number `sscanf(name, "blk.%d.")` reads, or nil.
    public static func layer(of name: String) -> Int? {
        let u = Array(name.utf8)
        guard u.count > 4, u[0] == UInt8(ascii: "b"), u[1] == UInt8(ascii: "l"), u[2] == UInt8(ascii: "k"), u[3] == UInt8(ascii: ".") else { return nil }
        var i = 4, negative = false
        if i < u.count && (u[i] == UInt8(ascii: "-") || u[i] == UInt8(ascii: "+")) {
            negative = u[i] == UInt8(ascii: "-")
            i += 1
        }
        var value = 0, digits = 0
        while i < u.count, (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(u[i]), digits < 9 {
            value = value * 10 + Int(u[i] - UInt8(ascii: "0"))
            i += 1
            digits += 1
        }
        return digits == 0 ? nil : (negative ? -value : value)
    }

    /// True when `a` comes before `b`.
    public static func precedes(_ a: String, _ b: String) -> Bool {
        let la = layer(of: a) ?? -1, lb = layer(of: b) ?? -1
        if la != lb { return la < lb }
        return a.utf8.lexicographicallyPrecedes(b.utf8)
    }

    /// `names` sorted into llama-quantize's order.
    public static func sorted(_ names: [String]) -> [String] { names.sorted(by: precedes) }
}
