import DSMSystem

/// Plain left-aligned text tables. Cells often hold text from manifests made elsewhere, so every cell is printed
/// through `TerminalText.escaped`: no control character reaches the terminal.
enum Table {
    static func render(header: [String], rows unescaped: [[String]]) -> String {
        let rows = unescaped.map { $0.map(TerminalText.escaped) }
        var widths = header.map(\.count)
        for row in rows { for (i, cell) in row.enumerated() { widths[i] = max(widths[i], cell.count) } }
        func line(_ cells: [String]) -> String {
            var parts: [String] = []
            for (i, cell) in cells.enumerated() {
                parts.append(i == cells.count - 1 ? cell : cell + String(repeating: " ", count: widths[i] - cell.count))
            }
            return parts.joined(separator: "  ")
        }
        return ([line(header)] + rows.map(line)).joined(separator: "\n")
    }
}
