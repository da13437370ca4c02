import DSMServeCore
import DSMStore
import Testing

@Suite struct SnapshotLinksTests {
    static func file(_ path: String, _ digit: Character = "a") -> Manifest.File {
        .init(path: path, size: 1, sha256: String(repeating: digit, count: 64), gitOid: nil, lfs: false)
    }

    @Test(arguments: ["zz/../../../.ssh/authorized_keys", "../x", "/etc/passwd", "a/../..", ".", "", "a/..", "//x/../../y"])
    func refusesLinksOutsideTheFolder(path: String) {
        #expect(SnapshotLinks.inside(path) == nil)
        #expect(throws: SnapshotLinks.Outside.self) { try SnapshotLinks.plan([Self.file("config.json"), Self.file(path)]) }
    }

    @Test(arguments: [("config.json", "config.json"), ("sub/dir/x.md", "sub/dir/x.md"), ("a/../b", "b"), ("./a//b", "a/b"), ("a..b/c", "a..b/c")])
    func keepsPathsInside(path: String, link: String) { #expect(SnapshotLinks.inside(path) == link) }

    @Test func refusesTwoFilesOnOneLink() throws {
        #expect(throws: SnapshotLinks.Outside.self) { try SnapshotLinks.plan([Self.file("a/b"), Self.file("a/./b", "b")]) }
        let plan = try SnapshotLinks.plan([Self.file("config.json"), Self.file("sub/w.bin", "b")])
        #expect(plan.map(\.path) == ["config.json", "sub/w.bin"] && plan.map(\.sha256) == [String(repeating: "a", count: 64), String(repeating: "b", count: 64)])
    }
}
