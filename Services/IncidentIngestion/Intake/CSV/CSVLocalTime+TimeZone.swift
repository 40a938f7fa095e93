import Foundation

/// What to do with wall times that a daylight-saving change skips or repeats.
///
/// In spring the clocks jump (in New York 02:00 becomes 03:00), so `02:30` never happens
/// that day: a record claiming it is wrong somewhere, and by default it is *not* converted;
/// the raw text goes on so validation rejects it with a reason (`nonexistent: "reject"`).
/// `shift_forward` reads it with the offset in force before the jump, as java.time and ICU
/// do, so `02:30` becomes `03:30-04:00`.
///
/// In autumn an hour repeats (01:00–01:59 happens twice). Such a time is real but
/// ambiguous; by default it is read as the earlier occurrence (the daylight-saving offset,
/// `ambiguous: "earlier"`), the convention of java.time, ICU and RFC 5545. `later` picks the
/// standard-time occurrence; `reject` passes the raw text on for validation to reject.
struct CSVDaylightSavingPolicy: Sendable, Hashable {
    enum Ambiguous: String, Sendable, CaseIterable {
        case earlier, later, reject
    }

    enum Nonexistent: String, Sendable, CaseIterable {
        case reject
        case shiftForward = "shift_forward"
    }

    var ambiguous: Ambiguous = .earlier
    var nonexistent: Nonexistent = .reject
}

extension CSVLocalTime {
    /// Why a wall time has no instant under the policy.
    enum ZoneProblem: Error, Sendable, Hashable {
        case nonexistent
        case ambiguous
        case fractionalMinuteOffset
    }

    /// The RFC 3339 text of this wall time in `zone`, with the offset in force there and then.
    func rfc3339(in zone: TimeZone, policy: CSVDaylightSavingPolicy = .init()) -> Result<String, ZoneProblem> {
        let local = secondsAsIfUTC
        let valid = Self.validOffsets(local: local, zone: zone)
        let offset: Int
        let wallTime: CSVLocalTime
        switch valid.count {
        case 0:
            guard policy.nonexistent == .shiftForward else { return .failure(.nonexistent) }
            let before = Self.offset(zone, at: local - 86_400)
            let instant = local - Int64(before)
            offset = Self.offset(zone, at: instant)
            wallTime = CSVLocalTime(secondsAsIfUTC: instant + Int64(offset), fraction: fraction)
        case 1:
            offset = valid[0]
            wallTime = self
        default:
            switch policy.ambiguous {
            case .earlier: offset = valid.first!
            case .later: offset = valid.last!
            case .reject: return .failure(.ambiguous)
            }
            wallTime = self
        }
        guard offset % 60 == 0 else { return .failure(.fractionalMinuteOffset) }
        return .success(wallTime.rfc3339(offsetSeconds: offset))
    }

    /// Offsets under which this wall time names an instant, largest first (earliest instant first).
    /// Zone transitions are at least days apart, so the offsets a day either side are all the candidates.
    private static func validOffsets(local: Int64, zone: TimeZone) -> [Int] {
        var candidates: Set<Int> = []
        for probe in [local - 86_400, local, local + 86_400] { candidates.insert(offset(zone, at: probe)) }
        return candidates.filter { offset(zone, at: local - Int64($0)) == $0 }.sorted(by: >)
    }

    private static func offset(_ zone: TimeZone, at seconds: Int64) -> Int {
        zone.secondsFromGMT(for: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}
