import Testing

@testable import IncidentIngestion

@Suite("Geohash")
struct GeohashTests {
    @Test(
        "published vectors",
        arguments: [
            // Wikipedia, "Geohash": the worked examples.
            (57.64911, 10.40744, 11, "u4pruydqqvj"),
            (42.605, -5.603, 5, "ezs42"),
            // The first bits split the world at the equator and the prime meridian.
            (0.0, 0.0, 1, "s"),
            (-90.0, -180.0, 7, "0000000"),
            (90.0, 180.0, 7, "zzzzzzz"),
            // Computed with a separate reference encoder written in Python from the algorithm's description.
            (40.65651334, -73.88182509, 7, "dr5rqc2"),
            (-33.8688, 151.2093, 7, "r3gx2f7"),
        ])
    func vectors(lat: Double, lon: Double, precision: Int, hash: String) {
        #expect(Geohash.encode(lat: lat, lon: lon, precision: precision) == hash)
    }

    @Test("decoding gives the cell that contains the point, at every precision")
    func boundingBoxContainsPoint() throws {
        let points: [(Double, Double)] = [
            (57.64911, 10.40744), (40.65651334, -73.88182509), (-33.8688, 151.2093), (41.8781, -87.6298),
            (-89.9999, 179.9999), (0.000001, -0.000001),
        ]
        for (lat, lon) in points {
            var previous: Geohash.BoundingBox?
            for precision in 1...Geohash.maximumPrecision {
                let hash = Geohash.encode(lat: lat, lon: lon, precision: precision)
                #expect(hash.count == precision)
                let box = try #require(Geohash.decode(hash))
                #expect(box.contains(lat: lat, lon: lon), "\(hash) does not contain \(lat),\(lon)")
                if let previous {
                    // A longer hash names a cell inside the shorter one's.
                    #expect(previous.contains(lat: box.minLat, lon: box.minLon))
                    #expect(previous.contains(lat: box.maxLat, lon: box.maxLon))
                }
                previous = box
            }
            // Every prefix of a hash is the hash at that precision.
            let long = Geohash.encode(lat: lat, lon: lon, precision: 12)
            #expect(String(long.prefix(7)) == Geohash.encode(lat: lat, lon: lon, precision: 7))
        }
    }

    @Test("a precision-7 cell is 360/2^18 degrees wide and 180/2^17 high")
    func cellSize() throws {
        let box = try #require(Geohash.decode("dr5rkmq"))
        #expect(box.maxLon - box.minLon == 360.0 / Double(1 << 18))
        #expect(box.maxLat - box.minLat == 180.0 / Double(1 << 17))
        let center = box.center
        #expect(Geohash.encode(lat: center.lat, lon: center.lon, precision: 7) == "dr5rkmq")
    }

    @Test("the known vector decodes around its point")
    func decodeKnownVector() throws {
        let box = try #require(Geohash.decode("u4pruydqqvj"))
        #expect(box.contains(lat: 57.64911, lon: 10.40744))
        #expect(abs(box.center.lat - 57.64911) < 0.00001)
        #expect(abs(box.center.lon - 10.40744) < 0.00001)
        #expect(Geohash.decode("U4PRUYDQQVJ") == box)
    }

    @Test("invalid hashes do not decode", arguments: ["", "a", "u4pi", "u4pl", "u4po", "ü", "u4pruydqqvjxx", "u4 p"])
    func invalid(hash: String) {
        #expect(Geohash.decode(hash) == nil)
    }
}
