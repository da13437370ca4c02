import Foundation
import DSMSystem

/// The durable progress record beside a partial file: which bytes are known written.
/// It is saved only after the partial file has been `fsync`ed, so it never claims bytes that a crash
/// could lose; after `kill -9` the next run resumes every range from here.
public struct PartialState: Codable, Equatable, Sendable {
    public static let currentVersion = 1

    public var version: Int
    public var size: Int64
    public var expected: String
    public var table: SegmentTable

    public init(size: Int64, expected: String, table: SegmentTable) {
        version = PartialState.currentVersion
        self.size = size
        self.expected = expected
        self.table = table
    }

    /// Loads the state for `item` if it exists, belongs to the same content, and the partial file is
    /// large enough to hold what it claims. Anything else means "start over".
    public static func load(for item: DownloadItem) -> PartialState? {
        guard let bytes = try? FileSystem.readAll(item.statePath),
              let state = try? JSONDecoder().decode(PartialState.self, from: Data(bytes)),
              state.version == currentVersion, state.size == item.size, state.expected == item.expected.key,
              let partialSize = FileSystem.fileSize(item.partialPath), partialSize == item.size,
              let table = SegmentTable.restored(state.table, size: item.size) else { return nil }
        var copy = state
        copy.table = table
        return copy
    }

    /// Bytes a resumed download already has, for planning (disk space, progress).
    public static func completedBytes(for item: DownloadItem) -> Int64 {
        load(for: item)?.table.completedBytes ?? 0
    }

    /// Writes the state atomically and durably.
    public func save(to path: String) throws {
        let data = try JSONEncoder().encode(self)
        try FileSystem.writeAtomically(Array(data), to: path)
    }
}
