import Foundation
import DSMSystem

extension DownloadEngine {
    /// Runs on its own thread: hashes each active file's written prefix as it grows, verifies and commits
    /// finished files, and checkpoints progress. Ends when every item is done or the run failed.
    func hasherLoop() {
        var buffer = [UInt8](repeating: 0, count: 4 << 20)
        var lastCheckpoint = Date()
        while true {
            lock.lock()
            let stop = failure != nil || cancel.isCancelled
            let allDone = pending.isEmpty && preparing == 0 && active.isEmpty
            let files = active
            lock.unlock()
            if stop || allDone { break }

            var didWork = false
            for file in files {
                do {
                    if try hashAvailable(file, buffer: &buffer) { didWork = true }
                } catch {
                    fail(error)
                }
            }
            if Date().timeIntervalSince(lastCheckpoint) >= options.checkpointInterval {
                checkpointAll(force: false)
                lastCheckpoint = Date()
            }
            if !didWork {
                lock.lock()
                _ = lock.wait(until: Date(timeIntervalSinceNow: 0.02))
                lock.unlock()
            }
        }
        lock.broadcast()
    }

    /// Hashes up to one buffer of newly written bytes; verifies and commits when the file is complete.
    /// Returns true if it did anything.
    private func hashAvailable(_ file: ActiveFile, buffer: inout [UInt8]) throws -> Bool {
        lock.lock()
        let prefix = file.table.contiguousPrefix
        let complete = file.table.isComplete && file.table.inFlightCount == 0
        lock.unlock()

        if file.hashed < prefix {
            let want = Int(min(Int64(buffer.count), prefix - file.hashed))
            let got = try buffer.withUnsafeMutableBytes { raw in
                try file.file.read(into: UnsafeMutableRawBufferPointer(rebasing: raw[..<want]), at: file.hashed)
            }
            guard got > 0 else {
                throw DownloadError(item: file.item.name, message: "the partial file \(file.item.partialPath) is shorter than expected")
            }
            let before = DispatchTime.now().uptimeNanoseconds
            buffer.withUnsafeBytes { raw in
                let chunk = UnsafeRawBufferPointer(rebasing: raw[..<got])
                file.sha256.update(chunk)
                file.gitSHA1?.update(chunk)
            }
            let spent = DispatchTime.now().uptimeNanoseconds - before
            lock.lock()
            hashNanos += spent
            lock.unlock()
            // Only this thread restarts a file (after a mismatch), and a switch to one stream keeps the
            // written prefix, so the bytes just hashed stay valid.
            file.hashed += Int64(got)
            return true
        }
        guard complete, file.hashed == file.item.size else { return false }
        try verifyAndCommit(file)
        return true
    }

    private func verifyAndCommit(_ file: ActiveFile) throws {
        let item = file.item
        let sha256 = file.sha256.finalizeHex()
        var problem: (expected: String, actual: String, kind: String)?
        switch item.expected {
        case .sha256(let expected) where expected != sha256:
            problem = (expected, sha256, "sha256")
        case .gitBlob(let expected):
            let actual = file.gitSHA1!.finalizeHex()
            if actual != expected { problem = (expected, actual, "git blob sha1") }
        default:
            break
        }
        if let problem {
            file.mismatches += 1
            let text = "\(item.name): \(problem.kind) mismatch: expected \(problem.expected), got \(problem.actual)"
            guard file.mismatches < 2 else {
                lock.lock()
                active.removeAll { $0 === file }
                lock.unlock()
                FileSystem.remove(item.partialPath)
                FileSystem.remove(item.statePath)
                throw DownloadError(item: item.name, message: "\(problem.kind) mismatch after downloading it twice: expected \(problem.expected), got \(problem.actual). The bad data was discarded; nothing was stored. The server or a proxy in between is sending corrupt data: try again later or another HF_ENDPOINT.")
            }
            delegate?.notice("\(text); discarded the data, downloading it again from scratch")
            try restart(file)
            return
        }
        try file.file.sync()
        lock.lock()
        active.removeAll { $0 === file }
        lock.unlock()
        try delegate?.commit(item, partialPath: item.partialPath, sha256: sha256)
        FileSystem.remove(item.statePath)
        lock.lock()
        lastCommitNanos = DispatchTime.now().uptimeNanoseconds
        outcomes[item.name] = DownloadOutcome(name: item.name, sha256: sha256, downloadedBytes: file.writtenThisRun,
                                              reusedBytes: file.reusedAtStart)
        file.token = nil
        lock.unlock()
        lock.broadcast()
    }

    /// Throws away a corrupt download and plans it again from byte 0.
    private func restart(_ file: ActiveFile) throws {
        FileSystem.remove(file.item.statePath)
        try FileSystem.syncDirectory(FileSystem.parent(of: file.item.statePath))
        try file.file.preallocate(0)
        try file.file.preallocate(file.item.size)
        lock.lock()
        file.generation += 1
        file.sequential = false
        file.table = freshTable(for: file.item)
        file.lastSavedTable = nil
        lock.unlock()
        file.resetDigests()
        lock.broadcast()
    }

    /// Makes progress durable: snapshot the table, `fsync` the data, then save the snapshot.
    /// The snapshot is taken before the fsync, so it never claims bytes the fsync did not cover.
    func checkpointAll(force: Bool) {
        lock.lock()
        let files = active.filter { $0.item.resumable }
        lock.unlock()
        for file in files {
            lock.lock()
            var snapshot = file.table
            lock.unlock()
            snapshot.compact()
            if !force, snapshot == file.lastSavedTable { continue }
            do {
                try file.file.sync()
            } catch {
                // A failed fsync means written bytes may be lost (and Linux reports it only once): never
                // save or commit on top of it.
                fail(DownloadError(item: file.item.name, message: "the disk reported an error while saving the download: \(error)"))
                return
            }
            do {
                try PartialState(size: file.item.size, expected: file.item.expected.key, table: snapshot).save(to: file.item.statePath)
                file.lastSavedTable = snapshot
            } catch {
                delegate?.notice("could not save download progress for \(file.item.name): \(error)")
            }
        }
    }
}
