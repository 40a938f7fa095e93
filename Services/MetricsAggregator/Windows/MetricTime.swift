import Contracts
import Foundation

/// Window bounds as they appear in keys and payloads: RFC 3339 in UTC, whole seconds
/// (`2025-03-14T04:00:00Z`), as docs/asyncapi.yaml shows them. Written by hand: the publisher
/// formats two of them for every update it sends.
enum MetricTime {
    static func string(_ date: Date) -> String {
        string(epoch: Int64((date.timeIntervalSince1970).rounded(.down)))
    }

    static func string(epoch seconds: Int64) -> String {
        var bytes = [UInt8](repeating: 0, count: 20)
        write(epoch: seconds, into: &bytes)
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Writes the 20 bytes `YYYY-MM-DDTHH:MM:SSZ` of `seconds` since 1970 into `bytes` at `base`.
    static func write(epoch seconds: Int64, into bytes: inout [UInt8], at base: Int = 0) {
        let days = Int(seconds >= 0 ? seconds / 86_400 : (seconds - 86_399) / 86_400)
        let secondOfDay = Int(seconds - Int64(days) * 86_400)
        let (year, month, day) = CivilDate.date(days: days)
        func put(_ value: Int, _ offset: Int, _ width: Int) {
            var value = value
            for index in stride(from: offset + width - 1, through: offset, by: -1) {
                bytes[base + index] = UInt8(0x30 + value % 10)
                value /= 10
            }
        }
        put(year, 0, 4)
        bytes[base + 4] = UInt8(ascii: "-")
        put(month, 5, 2)
        bytes[base + 7] = UInt8(ascii: "-")
        put(day, 8, 2)
        bytes[base + 10] = UInt8(ascii: "T")
        put(secondOfDay / 3600, 11, 2)
        bytes[base + 13] = UInt8(ascii: ":")
        put(secondOfDay / 60 % 60, 14, 2)
        bytes[base + 16] = UInt8(ascii: ":")
        put(secondOfDay % 60, 17, 2)
        bytes[base + 19] = UInt8(ascii: "Z")
    }
}
