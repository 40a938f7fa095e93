import Postgres

/// The consumer side of exactly-once effects: record an event id in the same transaction as
/// the effects it causes. A redelivered event finds its id and is skipped.
public enum Inbox {
    /// Claims `eventID` for `consumer`. Returns `true` the first time (apply the effects in this
    /// transaction) and `false` for a duplicate (do nothing).
    public static func claim(consumer: String, eventID: String, in connection: PostgresConnection) async throws -> Bool {
        let rows = try await connection.query("""
            INSERT INTO inbox (consumer, event_id) VALUES (\(consumer), \(eventID))
            ON CONFLICT DO NOTHING RETURNING 1
            """)
        return !rows.isEmpty
    }
}
