/// Effective bits per weight of the file types dsm makes, whole files included (mixes, norms kept in F32, the
/// output layer at Q6_K): what turns a parameter count into a GGUF size when no GGUF is at hand.
/// The K-quant figures are fitted to published files: Ollama's deepseek-r1 Q4_K_M tags (1.1, 4.7, 4.9, 9.0, 20,
/// 43 and 404 GB for 1.5B to 671B parameters) give 4.85 within 2 %; Q8_0 is ggml's 34 bytes per 32 weights.
public enum QuantSizes {
    public static let bitsPerWeight: [(type: String, bits: Double)] = [
        ("F16", 16), ("BF16", 16), ("Q8_0", 8.5), ("Q6_K", 6.5625), ("Q5_K_M", 5.69), ("Q5_K_S", 5.54),
        ("Q5_1", 6.0), ("Q5_0", 5.5), ("Q4_K_M", 4.85), ("Q4_K_S", 4.58), ("Q4_1", 5.0), ("Q4_0", 4.55),
    ]

    /// The options `dsm fit` weighs, best quality first (all of them types `dsm quantize` makes).
    public static let options = ["F16", "Q8_0", "Q6_K", "Q5_K_M", "Q4_K_M", "Q4_0"]

    public static func bits(_ type: String) -> Double? {
        bitsPerWeight.first { $0.type.lowercased() == type.lowercased() }?.bits
    }

    /// Estimated file bytes of `parameters` weights at `type`.
    public static func bytes(parameters: Int64, type: String) -> Int64? {
        bits(type).map { Int64(Double(parameters) * $0 / 8) }
    }
}
