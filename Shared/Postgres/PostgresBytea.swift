/// bytea's text form: `\x` followed by two hex digits per byte (the server's default output).
enum PostgresBytea {
    private static let digits = Array("0123456789abcdef".utf8)

    static func hex(_ bytes: [UInt8]) -> String {
        var text = [UInt8]()
        text.reserveCapacity(2 + bytes.count * 2)
        text.append(UInt8(ascii: "\\"))
        text.append(UInt8(ascii: "x"))
        appendHexDigits(bytes, to: &text)
        return String(decoding: text, as: UTF8.self)
    }

    static func appendHexDigits(_ bytes: [UInt8], to output: inout [UInt8]) {
        for byte in bytes {
            output.append(digits[Int(byte >> 4)])
            output.append(digits[Int(byte & 0x0F)])
        }
    }

    static func decode(_ text: String) throws -> [UInt8] {
        var text = text
        return try text.withUTF8 { bytes in
            guard bytes.count >= 2, bytes[0] == UInt8(ascii: "\\"), bytes[1] == UInt8(ascii: "x"),
                bytes.count % 2 == 0
            else {
                throw PostgresDecodingError("not bytea in hex format (is bytea_output 'hex'?)")
            }
            var result = [UInt8]()
            result.reserveCapacity((bytes.count - 2) / 2)
            var index = 2
            while index < bytes.count {
                guard let high = value(of: bytes[index]), let low = value(of: bytes[index + 1]) else {
                    throw PostgresDecodingError("invalid hex digit in bytea")
                }
                result.append(high << 4 | low)
                index += 2
            }
            return result
        }
    }

    private static func value(of digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}
