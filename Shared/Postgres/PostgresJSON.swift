import Foundation

/// Binds a Codable value as jsonb and decodes json/jsonb columns back into it.
///
///     try await conn.execute("INSERT INTO events (body) VALUES (\(PostgresJSON(event)))")
///     let event = try row.decode(0, as: PostgresJSON<Event>.self).value
///
/// Uses a default `JSONEncoder`/`JSONDecoder`; encode to a String yourself (and cast with
/// `::jsonb`) when you need other strategies.
public struct PostgresJSON<Value: Sendable>: Sendable {
    public var value: Value

    public init(_ value: Value) { self.value = value }
}

extension PostgresJSON: Equatable where Value: Equatable {}
extension PostgresJSON: Hashable where Value: Hashable {}

extension PostgresJSON: PostgresEncodable where Value: Encodable {
    public static var postgresDataType: PostgresDataType { .jsonb }

    public func encodePostgres() throws -> PostgresEncodedValue {
        do {
            return .text(String(decoding: try JSONEncoder().encode(value), as: UTF8.self))
        } catch {
            throw PostgresEncodingError("\(Value.self) could not be encoded as JSON")
        }
    }
}

extension PostgresJSON: PostgresDecodable where Value: Decodable {
    public init(postgresText text: String, type: PostgresDataType) throws {
        do {
            value = try JSONDecoder().decode(Value.self, from: Data(text.utf8))
        } catch {
            throw PostgresDecodingError("the JSON does not decode as \(Value.self)")
        }
    }
}
