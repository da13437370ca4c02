import Testing
import DSMSystem

@Suite struct TerminalTextTests {
    @Test(arguments: [
        ("deepseek-r1:7b", "deepseek-r1:7b"),
        ("caf\u{E9} \u{4E2D}\u{6587} \u{1F600}", "caf\u{E9} \u{4E2D}\u{6587} \u{1F600}"),
        ("\u{1B}]0;title\u{07}", "\\x1b]0;title\\x07"),
        ("a\nb\rc\td\u{0}", "a\\x0ab\\x0dc\\x09d\\x00"),
        ("del\u{7F}", "del\\x7f"),
        ("csi\u{9B}31m next\u{85}", "csi\\u{9b}31m next\\u{85}"),
        ("\u{A0}nbsp kept", "\u{A0}nbsp kept"),
    ])
    func escapesControlsOnly(raw: String, shown: String) {
        #expect(TerminalText.escaped(raw) == shown)
        #expect(!TerminalText.escaped(raw).unicodeScalars.contains { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) })
    }
}
