/// Geohash (Niemeyer, 2008): a point as a base32 string whose every character halves the
/// cell five more times, alternating longitude and latitude, longitude first. Cells of
/// precision 7 (about 153 m × 153 m) are the `cell` of canonical incidents; hotspots use 6.
enum Geohash {
    /// The precision of `CanonicalIncident.cell`.
    static let incidentCellPrecision = 7

    /// The longest hash worth computing: 12 characters are 60 bits, below a centimetre.
    static let maximumPrecision = 12

    /// A cell: the rectangle every point with the same hash lies in (edges inclusive).
    struct BoundingBox: Sendable, Equatable {
        var minLat: Double
        var maxLat: Double
        var minLon: Double
        var maxLon: Double

        var center: (lat: Double, lon: Double) { ((minLat + maxLat) / 2, (minLon + maxLon) / 2) }

        func contains(lat: Double, lon: Double) -> Bool {
            (minLat...maxLat).contains(lat) && (minLon...maxLon).contains(lon)
        }
    }

    /// The geohash alphabet: digits and lower-case letters without `a`, `i`, `l` and `o`.
    private static let alphabet: [UInt8] = Array("0123456789bcdefghjkmnpqrstuvwxyz".utf8)

    /// Character value per ASCII byte, -1 where the byte is not in the alphabet. Upper-case
    /// letters are accepted on decoding; encoding always writes lower case.
    private static let values: [Int8] = {
        var table = [Int8](repeating: -1, count: 128)
        for (value, byte) in alphabet.enumerated() {
            table[Int(byte)] = Int8(value)
            if (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) { table[Int(byte - 32)] = Int8(value) }
        }
        return table
    }()

    /// The hash of a WGS84 point. Latitude must lie in [-90, 90] and longitude in [-180, 180];
    /// a point on a cell edge belongs to the cell above / east of it, as in every reference
    /// implementation.
    static func encode(lat: Double, lon: Double, precision: Int = incidentCellPrecision) -> String {
        precondition((1...maximumPrecision).contains(precision), "geohash precision must be 1...\(maximumPrecision)")
        precondition((-90.0...90.0).contains(lat) && (-180.0...180.0).contains(lon), "coordinates out of range")
        var latRange = (-90.0, 90.0)
        var lonRange = (-180.0, 180.0)
        var isLongitudeBit = true
        return String(unsafeUninitializedCapacity: precision) { buffer in
            for index in 0..<precision {
                var value = 0
                for _ in 0..<5 {
                    value <<= 1
                    if isLongitudeBit {
                        let middle = (lonRange.0 + lonRange.1) / 2
                        if lon >= middle {
                            value |= 1
                            lonRange.0 = middle
                        } else {
                            lonRange.1 = middle
                        }
                    } else {
                        let middle = (latRange.0 + latRange.1) / 2
                        if lat >= middle {
                            value |= 1
                            latRange.0 = middle
                        } else {
                            latRange.1 = middle
                        }
                    }
                    isLongitudeBit.toggle()
                }
                buffer[index] = alphabet[value]
            }
            return precision
        }
    }

    /// The cell a hash names; `nil` for an empty hash, one longer than `maximumPrecision`, or
    /// one with a character outside the alphabet.
    static func decode(_ hash: String) -> BoundingBox? {
        let bytes = hash.utf8
        guard (1...maximumPrecision).contains(bytes.count) else { return nil }
        var box = BoundingBox(minLat: -90, maxLat: 90, minLon: -180, maxLon: 180)
        var isLongitudeBit = true
        for byte in bytes {
            guard byte < 128 else { return nil }
            let value = Int(values[Int(byte)])
            guard value >= 0 else { return nil }
            for shift in stride(from: 4, through: 0, by: -1) {
                let isSet = (value >> shift) & 1 == 1
                if isLongitudeBit {
                    let middle = (box.minLon + box.maxLon) / 2
                    if isSet { box.minLon = middle } else { box.maxLon = middle }
                } else {
                    let middle = (box.minLat + box.maxLat) / 2
                    if isSet { box.minLat = middle } else { box.maxLat = middle }
                }
                isLongitudeBit.toggle()
            }
        }
        return box
    }
}
