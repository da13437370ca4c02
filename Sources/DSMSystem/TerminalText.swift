/// Text that came from elsewhere (a manifest, a bundle, a server) made safe to print on a terminal: control
/// characters are shown as escapes instead of being sent, so a crafted name cannot move the cursor, clear the
/// screen, set the window title or hide what is printed after it.
public enum TerminalText {
    /// `text` with every C0 control (below U+0020) and DEL written as `\xHH` (`\x1b`, `\x07`, `\x0a`), and every C1
    /// control (U+0080–U+009F) as `\u{HH}`; everything else is kept as it is.
    public static func escaped(_ text: String) -> String {
        guard text.unicodeScalars.contains(where: isControl) else { return text }
        var out = String.UnicodeScalarView()
        for s in text.unicodeScalars {
            guard isControl(s) else { out.append(s); continue }
            let hex = String(s.value, radix: 16)
            let escape = s.value < 0x80 ? "\\x" + (hex.count < 2 ? "0" : "") + hex : "\\u{\(hex)}"
            out.append(contentsOf: escape.unicodeScalars)
        }
        return String(out)
    }

    static func isControl(_ s: Unicode.Scalar) -> Bool { s.value < 0x20 || (0x7F...0x9F).contains(s.value) }
}
