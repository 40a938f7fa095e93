import Postgres

/// The write side of the transactional outbox: events are rows written in the caller's own
/// transaction, so they exist exactly when the state change they describe does.
public enum Outbox {
    /// Writes `events` in one statement, in order (the relay publishes in row order).
    public static func enqueue(_ events: [OutboxEvent], in connection: PostgresConnection) async throws {
        guard !events.isEmpty else { return }
        let topics = events.map(\.topic)
        let keys: [String?] = events.map { $0.key.map { hex(Array($0.utf8)) } }
        let headers = events.map(\.headersJSON)
        let payloads = events.map { hex($0.event.data) }
        try await connection.execute("""
            INSERT INTO outbox (topic, message_key, headers, payload)
            SELECT u.topic, decode(u.message_key, 'hex'), u.headers::jsonb, decode(u.payload, 'hex')
            FROM unnest(\(topics)::text[], \(keys)::text[], \(headers)::text[], \(payloads)::text[])
                 WITH ORDINALITY AS u(topic, message_key, headers, payload, position)
            ORDER BY u.position
            """)
    }

    private static let digits = Array("0123456789abcdef".utf8)

    /// Bytes as hex text: bound as text arrays, decoded by the server (`decode(…, 'hex')`).
    public static func hex(_ bytes: [UInt8]) -> String {
        var text = [UInt8]()
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}
