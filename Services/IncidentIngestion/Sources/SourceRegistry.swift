import Contracts
import Crypto
import Foundation
import Postgres
import ServiceKit

/// Registered upstream sources, their API keys (stored as SHA-256, shown once) and their
/// category mappings.
public struct SourceRegistry: Sendable {
    public struct Source: Sendable, Equatable {
        public var id: String
        public var name: String
        public var timezone: String
        public var activeKeys: Int
    }

    public struct Unmapped: Sendable, Equatable {
        public var label: String
        public var occurrences: Int
    }

    private let postgres: PostgresClient

    public init(postgres: PostgresClient) {
        self.postgres = postgres
    }

    /// Registers a source and returns its first API key (the only time it is shown).
    public func add(id: String, name: String, timezone: String) async throws -> String {
        guard TimeZone(identifier: timezone) != nil else { throw SourceError("unknown IANA time zone \(timezone)") }
        let key = Self.newKey()
        try await postgres.withTransaction { connection in
            let inserted = try await connection.execute("""
                INSERT INTO sources (id, name, timezone) VALUES (\(id), \(name), \(timezone)) ON CONFLICT (id) DO NOTHING
                """)
            guard inserted == 1 else { throw SourceError("source \(id) already exists (rotate its key instead)") }
            try await connection.execute("INSERT INTO source_keys (source_id, key_hash) VALUES (\(id), \(Self.hash(key)))")
        }
        return key
    }

    /// Adds a new key; existing keys stay valid until `revokeKeys(except:)` so clients can switch over.
    public func rotateKey(source: String) async throws -> String {
        let key = Self.newKey()
        let inserted = try await postgres.execute("""
            INSERT INTO source_keys (source_id, key_hash) SELECT id, \(Self.hash(key)) FROM sources WHERE id = \(source)
            """)
        guard inserted == 1 else { throw SourceError("no source \(source)") }
        return key
    }

    /// Revokes every key of `source` except `key`.
    @discardableResult
    public func revokeKeys(source: String, except key: String) async throws -> Int {
        try await postgres.execute("""
            UPDATE source_keys SET revoked_at = now()
            WHERE source_id = \(source) AND key_hash <> \(Self.hash(key)) AND revoked_at IS NULL
            """)
    }

    /// Revokes the keys of `source` issued before its newest one: the end of a graceful
    /// rotation, once clients use the new key.
    @discardableResult
    public func revokeOlderKeys(source: String) async throws -> Int {
        try await postgres.execute("""
            UPDATE source_keys SET revoked_at = now()
            WHERE source_id = \(source) AND revoked_at IS NULL
              AND id < (SELECT max(id) FROM source_keys WHERE source_id = \(source))
            """)
    }

    /// The source a key belongs to, or `nil` for an unknown or revoked key.
    public func authenticate(key: String) async throws -> String? {
        try await postgres.query("""
            SELECT source_id FROM source_keys WHERE key_hash = \(Self.hash(key)) AND revoked_at IS NULL
            """).first?.decode(0, as: String.self)
    }

    public func list() async throws -> [Source] {
        try await postgres.query("""
            SELECT s.id, s.name, s.timezone, count(k.id) FILTER (WHERE k.revoked_at IS NULL)
            FROM sources s LEFT JOIN source_keys k ON k.source_id = s.id GROUP BY s.id ORDER BY s.id
            """).map { row in
            let (id, name, timezone, keys) = try row.decode((String, String, String, Int).self)
            return Source(id: id, name: name, timezone: timezone, activeKeys: keys)
        }
    }

    /// Replaces the source's category mapping with `labels` (label → canonical category).
    public func setCategories(source: String, labels: [String: IncidentCategory]) async throws {
        try await postgres.withTransaction { connection in
            try await connection.execute("DELETE FROM category_mappings WHERE source_id = \(source)")
            for (label, category) in labels.sorted(by: { $0.key < $1.key }) {
                try await connection.execute("""
                    INSERT INTO category_mappings (source_id, label, category) VALUES (\(source), \(label), \(category.rawValue))
                    """)
            }
        }
    }

    /// Replaces the category mapping of `source` with a file in the format of the shipped
    /// seeds (`Seeds/categories/README.md`): its `source` must be this source, its
    /// `taxonomy_version` this build's, every code a canonical one; otherwise nothing changes.
    /// Returns the number of labels. Applies from the next batch; stored incidents keep theirs.
    @discardableResult
    public func setCategories(source: String, seedFile data: Data) async throws -> Int {
        let seed = try CategorySeed(json: data)
        guard seed.source == source else { throw SourceError("the file maps labels of \(seed.source), not \(source)") }
        guard try await postgres.query("SELECT 1 FROM sources WHERE id = \(source)").first != nil else {
            throw SourceError("no source \(source)")
        }
        try await setCategories(source: source, labels: seed.labels)
        return seed.labels.count
    }

    /// The category mapping of `source`: label → canonical code, by label.
    public func categories(source: String) async throws -> [(label: String, category: String)] {
        try await postgres.query("SELECT label, category FROM category_mappings WHERE source_id = \(source) ORDER BY label")
            .map { try $0.decode((String, String).self) }
    }

    /// Labels of `source` that mapped to nothing (and became `other`), most frequent first.
    public func unmapped(source: String) async throws -> [Unmapped] {
        try await postgres.query("""
            SELECT label, occurrences FROM unmapped_labels WHERE source_id = \(source) ORDER BY occurrences DESC, label
            """).map { row in
            let (label, occurrences) = try row.decode((String, Int).self)
            return Unmapped(label: label, occurrences: occurrences)
        }
    }

    static func newKey() -> String {
        "coal_" + SymmetricKey(size: .bits256).withUnsafeBytes { Outbox.hex(Array($0)) }
    }

    static func hash(_ key: String) -> String {
        Outbox.hex(Array(SHA256.hash(data: Array(key.utf8))))
    }
}

public struct SourceError: Error, CustomStringConvertible, Sendable {
    public var description: String
    init(_ description: String) { self.description = description }
}
