import DSMHub
import DSMRegistry
import DSMStore

/// What users and clients type: `dsm pull` references (`ModelReference`, `RepoID`, `Revision`) and the names and
/// selectors of the store, registry and gateway (`NAME[@SELECTOR]`: `ModelName`, `VersionSelector`). Every name or
/// selector accepted must print back to text that parses to the same value.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
    if case .repository(let repo, let revision, let tag)? = try? ModelReference.parse(text) {
        precondition(RepoID(repo.description) == repo, "repo id \(repo) does not round-trip")
        if let revision { precondition(Revision.isValid(revision), "invalid revision \(revision) accepted") }
        if let tag { precondition(CatalogName.isTagText(tag) && Revision.isValid(tag), "invalid tag \(tag) accepted") }
    }
    _ = Revision.isCommit(text)
    let (body, selector) = VersionSelector.split(text)
    if let selector { precondition(VersionSelector(parsing: selector.description) == selector, "selector \(selector) does not round-trip") }
    if let name = try? ModelName(parsing: body) {
        precondition((try? ModelName(parsing: name.description)) == name, "name \(name) does not round-trip")
        _ = name.manifestRelativePath
    }
    return 0
}
