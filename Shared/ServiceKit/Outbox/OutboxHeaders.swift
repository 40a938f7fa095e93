import Kafka

/// Reads an outbox row's `headers::text` (PostgreSQL's text form of a jsonb object of strings,
/// e.g. `{"ce_id": "a#1", "ce_type": "…"}`) into Kafka headers sorted by name, without a
/// general JSON parser: the relay reads one per event, and `JSONSerialization` was most of its
/// CPU time. Anything else (a value that is not a string, unusual spacing) gives `nil`, and
/// the relay reads it with `JSONSerialization` as before.
enum OutboxHeaders {
    static func parse(_ text: String) -> [KafkaHeader]? {
        var text = text
        return text.withUTF8 { bytes -> [KafkaHeader]? in
            var reader = Reader(bytes: bytes)
            guard let headers = reader.object(), reader.index == bytes.count else { return nil }
            return headers.sorted { $0.key < $1.key }
        }
    }

    private struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0

        mutating func skip(_ byte: UInt8) -> Bool {
            guard index < bytes.count, bytes[index] == byte else { return false }
            index += 1
            return true
        }

        mutating func object() -> [KafkaHeader]? {
            guard skip(UInt8(ascii: "{")) else { return nil }
            var headers: [KafkaHeader] = []
            if skip(UInt8(ascii: "}")) { return headers }
            while true {
                guard let key = string(), skip(UInt8(ascii: ":")), skip(UInt8(ascii: " ")), let value = string() else { return nil }
                headers.append(KafkaHeader(key: key, string: value))
                if skip(UInt8(ascii: "}")) { return headers }
                guard skip(UInt8(ascii: ",")), skip(UInt8(ascii: " ")) else { return nil }
            }
        }

        /// A JSON string with the escapes PostgreSQL writes (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`,
        /// `\t`, `\u00xx`) and, to be safe, the others JSON allows.
        mutating func string() -> String? {
            guard skip(UInt8(ascii: "\"")) else { return nil }
            var utf8: [UInt8] = []
            while index < bytes.count {
                let byte = bytes[index]
                index += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(validating: utf8, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard index < bytes.count else { return nil }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let unit = hexQuad() else { return nil }
                        var scalar = Unicode.Scalar(unit)
                        if unit & 0xFC00 == 0xD800 {
                            guard skip(UInt8(ascii: "\\")), skip(UInt8(ascii: "u")), let low = hexQuad(), low & 0xFC00 == 0xDC00 else { return nil }
                            scalar = Unicode.Scalar((UInt32(unit) - 0xD800) * 0x400 + (UInt32(low) - 0xDC00) + 0x10000)
                        }
                        guard let scalar else { return nil }
                        utf8.append(contentsOf: String(Character(scalar)).utf8)
                    default:
                        return nil
                    }
                default:
                    utf8.append(byte)
                }
            }
            return nil
        }

        mutating func hexQuad() -> UInt16? {
            guard index + 4 <= bytes.count else { return nil }
            var value: UInt16 = 0
            for _ in 0..<4 {
                guard let digit = Int(String(UnicodeScalar(bytes[index])), radix: 16) else { return nil }
                value = value << 4 | UInt16(digit)
                index += 1
            }
            return value
        }
    }
}
