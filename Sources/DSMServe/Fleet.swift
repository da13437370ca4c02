import AsyncHTTPClient
import DSMRegistry
import DSMServeCore
import DSMStore
import DSMSystem
import Foundation

/// The runtimes behind the gateway, kept in step with the registry: for every served name, one runtime per version
/// a channel sends traffic to (stable, and the canary while its weight is above 0). A channel change is applied
/// by starting the new version's runtime, waiting until it is ready, switching the routing, and only then draining
/// and stopping runtimes no channel needs, so no request is dropped.
public final class Fleet: @unchecked Sendable {
    /// How the fleet starts runtimes.
    public struct Options: Sendable {
        public var kind: RuntimeKind = .llamaCpp
        public var executable = "llama-server"
        public var settings = RuntimeSettings()
        /// How often the registry is re-read (seconds).
        public var pollInterval = 0.5
        /// How long a new runtime may take to become ready (seconds).
        public var readyTimeout = 600.0
        /// How a ready runtime is health-checked (a hung one is killed and restarted).
        public var liveness = LivenessPolicy()
        /// How long the gateway waits for a runtime's answer to start (seconds): a non-streamed answer must be
        /// complete by then, a streamed one must have sent its headers.
        public var firstByteTimeout = 600.0
        public init() {}
    }

    /// One name's live routing: its split and the ready runtimes of the versions it routes to.
    struct Entry {
        var split: Routing
        var revision: Int
        var instances: [Int: RuntimeInstance]
    }

    public let registry: Registry
    public let options: Options
    let client: HTTPClient
    let workDirectory: String
    let log: @Sendable (String) -> Void
    let metrics: MetricsBox
    private let lock = NSLock()
    private var entries: [String: Entry] = [:]
    private var watchers: [Task<Void, Never>] = []

    init(registry: Registry, options: Options, client: HTTPClient, metrics: MetricsBox, log: @escaping @Sendable (String) -> Void) throws {
        self.registry = registry
        self.options = options
        self.client = client
        self.metrics = metrics
        self.log = log
        workDirectory = registry.store.root + "/serve"
        try FileManager.default.createDirectory(atPath: workDirectory + "/logs", withIntermediateDirectories: true)
    }

    /// The names being served.
    public var names: [String] { lock.withLock { entries.keys.sorted() } }

    /// Whether `name` is one of the names served here.
    func serves(_ name: String) -> Bool { lock.withLock { entries[name] != nil } }

    /// Starts serving `name` at its current routing (waits until its runtimes are ready) and keeps following the
    /// registry. Throws when the name cannot be served at all.
    func add(_ name: ModelName) async throws {
        guard let state = try registry.state(of: name) else {
            throw SpawnError("\(name) is not in the store; `dsm list` shows what is")
        }
        try await apply(name, state.routing, revision: state.revision)
        let interval = options.pollInterval
        watchers.append(Task { [weak self] in
            var failedRevision = -1
            while !Task.isCancelled {
                try? await Task.sleep(nanoseconds: UInt64(interval * 1e9))
                guard let self, let s = try? self.registry.state(of: name) else { continue }
                let current = self.lock.withLock { self.entries[name.description]?.revision ?? -1 }
                guard s.revision != current, s.revision != failedRevision else { continue }
                do {
                    try await self.apply(name, s.routing, revision: s.revision)
                    failedRevision = -1
                } catch {
                    failedRevision = s.revision
                    self.log("cannot apply \(name)'s new routing (revision \(s.revision)), still serving the previous one: \(error)")
                }
            }
        })
    }

    /// Brings `name` to `routing`: start what is missing, wait for it, switch, then drain what is no longer used.
    func apply(_ name: ModelName, _ routing: Routing, revision: Int) async throws {
        let key = name.description
        var wanted = Set<Int>()
        if let s = routing.stable { wanted.insert(s) }
        if let c = routing.canary, routing.weight > 0 { wanted.insert(c) }
        guard !wanted.isEmpty else { throw SpawnError("\(name) has no stable version to serve; `dsm rollback \(name) --to vN` sets one") }
        let current = lock.withLock { entries[key]?.instances ?? [:] }
        var next: [Int: RuntimeInstance] = [:]
        var started: [RuntimeInstance] = []
        do {
            for v in wanted.sorted() {
                if let running = current[v] { next[v] = running; continue }
                let instance = try makeInstance(name, version: v)
                started.append(instance)
                try instance.start()
                next[v] = instance
            }
            for instance in started { try await instance.waitReady(timeout: options.readyTimeout) }
        } catch {
            for instance in started { await instance.drainAndStop(timeout: 0) }
            throw error
        }
        let retired: [RuntimeInstance] = lock.withLock {
            entries[key] = Entry(split: routing,
                                 revision: revision, instances: next)
            return current.filter { next[$0.key] == nil }.map(\.value)
        }
        let text = routing.canary.map { "stable v\(routing.stable.map(String.init) ?? "-"), canary v\($0) at \(routing.weight)%" }
            ?? "stable v\(routing.stable.map(String.init) ?? "-")"
        log("routing \(name): \(text)")
        for old in retired { Task { await old.drainAndStop() } }
    }

    /// The runtime for one request: the version the split picks for `userKey` (or `pinned`), falling back to another
    /// ready version of the name when that one is restarting. Returns the version the split chose and the runtime
    /// that answers (whose version differs when it is such a fallback), or no runtime when none is ready.
    func route(_ name: String, userKey: String, pinned: Int? = nil) -> (version: Int?, instance: RuntimeInstance?, known: Bool) {
        lock.withLock {
            guard let e = entries[name] else { return (nil, nil, false) }
            let v = pinned ?? e.split.version(name: name, userKey: userKey)
            if let v, let i = e.instances[v], i.phase == .ready { return (v, i, true) }
            if pinned == nil, let other = e.instances.values.first(where: { $0.phase == .ready }) { return (v, other, true) }
            return (v, nil, true)
        }
    }

    /// The current split of `name` (nil when not served).
    func split(of name: String) -> Routing? { lock.withLock { entries[name]?.split } }

    /// Each name's split and its runtimes' phases (for `/health`).
    func snapshot() -> [(name: String, split: Routing, instances: [RuntimeInstance])] {
        lock.withLock { entries.sorted { $0.key < $1.key }.map { ($0.key, $0.value.split, $0.value.instances.values.sorted { $0.model.version < $1.model.version }) } }
    }

    /// Stops following the registry and stops every runtime after its requests finish.
    func stopAll() async {
        watchers.forEach { $0.cancel() }
        let all: [RuntimeInstance] = lock.withLock { entries.values.flatMap { $0.instances.values } }
        await withTaskGroup(of: Void.self) { g in for i in all { g.addTask { await i.drainAndStop(timeout: 30) } } }
    }

    private func makeInstance(_ name: ModelName, version: Int) throws -> RuntimeInstance {
        guard let found = try registry.lookup(name, .number(version)) else { throw SpawnError("\(name)@v\(version) is not in the store") }
        let model = try served(found)
        let (kind, exe, settings, work) = (options.kind, options.executable, options.settings, workDirectory)
        let makePlan: @Sendable (Int) throws -> LaunchPlan = { port in
            try RuntimeLaunch.plan(kind, executable: exe, model: model, port: port, settings: settings, workDirectory: work)
        }
        let port = try Ports.free()
        let plan = try makePlan(port)
        let logPath = workDirectory + "/logs/\(options.kind.rawValue)-\(model.label.replacingOccurrences(of: "/", with: "_")).log"
        let metrics = self.metrics
        return RuntimeInstance(model: model, kind: kind, port: port, plan: plan, makePlan: makePlan, freePort: { try Ports.free() },
                               logPath: logPath, liveness: options.liveness, firstByteTimeout: options.firstByteTimeout,
                               client: client, events: log,
                               onRestart: { metrics.with { $0.recordRestart(model: model.name, version: "v\(model.version)") } })
    }

    /// The files a runtime reads: the version's folder of links (`VersionFolder`), and in it the first GGUF part for
    /// llama.cpp and Ollama, or the folder itself for vLLM.
    private func served(_ v: ResolvedVersion) throws -> ServedModel {
        var m = ServedModel(name: v.name.description, version: v.number)
        let dir = try VersionFolder.materialize(v, store: registry.store)
        if let f = v.manifest.firstGGUF { m.ggufPath = dir + "/" + f.path } else { m.checkpointPath = dir }
        return m
    }
}

/// Free loopback ports for runtimes. The port is free when chosen, not necessarily when the runtime binds it:
/// `RuntimeInstance` checks that the listener it then talks to is the runtime's own (`ProcScan`).
enum Ports {
    /// For tests only: `DSM_SERVE_TEST_FIRST_PORT` is returned by the first `free()` of the process, so a test can
    /// put another listener on that port first (the race a local attacker would win by chance).
    private static let forced = ForcedPort(ProcessInfo.processInfo.environment["DSM_SERVE_TEST_FIRST_PORT"].flatMap { Int($0) })

    /// A port the kernel says is free now (bound to port 0, read back, closed).
    static func free() throws -> Int {
        if let p = forced.take() { return p }
        return try LoopbackPort.free()
    }
}

/// A port to hand out once.
final class ForcedPort: @unchecked Sendable {
    private let lock = NSLock()
    private var port: Int?
    init(_ port: Int?) { self.port = port }
    func take() -> Int? { lock.withLock { defer { port = nil }; return port } }
}

/// The gateway's metrics behind a lock.
final class MetricsBox: @unchecked Sendable {
    private let lock = NSLock()
    private var value = GatewayMetrics()
    func with<T>(_ body: (inout GatewayMetrics) -> T) -> T { lock.withLock { body(&value) } }
}
