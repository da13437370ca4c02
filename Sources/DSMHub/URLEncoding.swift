/// Percent-encoding as huggingface_hub applies it (`urllib.parse.quote`): unreserved characters
/// (letters, digits, `-._~`) stay, and so do the characters in `safe`; everything else is `%XX` over UTF-8.
public enum URLEncoding {
    /// Encodes `text`, keeping the characters in `safe` (for example `"/"` for file paths, `""` for revisions).
    public static func quote(_ text: String, safe: String = "/") -> String {
        let safeBytes = Set(safe.utf8)
        var out = ""
        for byte in text.utf8 {
            let isUnreserved = (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                || byte == 0x2D || byte == 0x2E || byte == 0x5F || byte == 0x7E
            if isUnreserved || safeBytes.contains(byte) {
                out.unicodeScalars.append(Unicode.Scalar(byte))
            } else {
                out += "%" + String(byte >> 4, radix: 16, uppercase: true) + String(byte & 0xF, radix: 16, uppercase: true)
            }
        }
        return out
    }
}
