import Postgres

/// The write side of the transactional outbox: events are rows written in the caller's own
/// transaction, so they exist exactly when the state change they describe does.
public enum Outbox {
    public static func enqueue(_ events: [OutboxEvent], in connection: PostgresConnection) async throws {
        for event in events {
            let key: [UInt8]? = event.key.map { Array($0.utf8) }
            try await connection.execute("""
                INSERT INTO outbox (topic, message_key, headers, payload)
                VALUES (\(event.topic), \(key), \(event.headersJSON)::jsonb, \(event.event.data))
                """)
        }
    }
}
