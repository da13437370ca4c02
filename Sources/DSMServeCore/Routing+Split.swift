import DSMRegistry

/// Which version of a name a request goes to: the canary for `weight` % of users, the stable version for the rest.
///
/// The registry's `Routing` is the one description of a name's split; this is the rule that applies it. Each user
/// falls into one of 10,000 buckets by a hash of (name, user key); bucket `b` goes to the canary when
/// `b < weight × 100`. A user always lands in the same bucket, so the same user keeps the same version while the
/// weight stays, and raising the weight only moves users from stable to canary (never back). Requests without a
/// user key are spread by a per-request random key.
extension Routing {
    /// The version number for `userKey`, or nil when the name has no version to serve.
    public func version(name: String, userKey: String) -> Int? {
        let weight = max(0, min(100, self.weight))
        guard let canary, weight > 0 else { return stable ?? canary }
        guard let stable else { return canary }
        return Routing.bucket(name: name, userKey: userKey) < weight * 100 ? canary : stable
    }

    /// The user's bucket in 0..<10_000: FNV-1a over the bytes, finished with the splitmix64 mixer so that
    /// similar keys (`user-1`, `user-2`) spread evenly.
    public static func bucket(name: String, userKey: String) -> Int {
        var h: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in name.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        h = (h ^ 0) &* 0x100_0000_01b3
        for byte in userKey.utf8 { h = (h ^ UInt64(byte)) &* 0x100_0000_01b3 }
        h ^= h >> 30
        h = h &* 0xbf58_476d_1ce4_e5b9
        h ^= h >> 27
        h = h &* 0x94d0_49bb_1331_11eb
        h ^= h >> 31
        return Int(h % 10_000)
    }
}
