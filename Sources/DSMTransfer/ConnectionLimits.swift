/// How many connections a download may open: in total, and for any one file.
public struct ConnectionLimits: Sendable, Equatable {
    /// Connections for the whole download (one worker, one kept-alive connection each).
    public var total: Int
    /// Connections one file may use at once.
    public var perFile: Int
    /// A split leaves at least this many bytes on each side.
    public var minSplit: Int64

    public init(total: Int, perFile: Int, minSplit: Int64) {
        precondition(total >= 1 && perFile >= 1 && minSplit >= 1)
        self.total = total
        self.perFile = min(perFile, total)
        self.minSplit = minSplit
    }
}
