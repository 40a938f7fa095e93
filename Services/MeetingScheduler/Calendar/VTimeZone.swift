import Foundation

/// A VTIMEZONE built from the system's time-zone database: one STANDARD or DAYLIGHT
/// observance per transition in the span the calendar covers, each with its exact DTSTART,
/// so a client needs no time-zone database of its own to place the local times.
enum VTimeZone {
    static func lines(for zone: TimeZone, from: Date, to: Date) -> [String] {
        var lines = ["BEGIN:VTIMEZONE", "TZID:\(zone.identifier)"]
        let begin = from.addingTimeInterval(-366 * 86_400)
        var transitions: [Date] = []
        var cursor = begin
        while let next = zone.nextDaylightSavingTimeTransition(after: cursor), next <= to, transitions.count < 400 {
            transitions.append(next)
            cursor = next
        }
        // The offset in force at the start of the span, as an observance starting then.
        let initialOffset = zone.secondsFromGMT(for: begin)
        lines += observance(
            daylight: zone.isDaylightSavingTime(for: begin), start: begin, offsetFrom: initialOffset, offsetTo: initialOffset,
            name: zone.abbreviation(for: begin))
        for transition in transitions {
            let before = zone.secondsFromGMT(for: transition.addingTimeInterval(-1))
            let after = zone.secondsFromGMT(for: transition)
            lines += observance(
                daylight: zone.isDaylightSavingTime(for: transition), start: transition, offsetFrom: before, offsetTo: after,
                name: zone.abbreviation(for: transition))
        }
        lines.append("END:VTIMEZONE")
        return lines
    }

    /// DTSTART of an observance is the local time of the onset in the offset before it.
    static func observance(daylight: Bool, start: Date, offsetFrom: Int, offsetTo: Int, name: String?) -> [String] {
        let kind = daylight ? "DAYLIGHT" : "STANDARD"
        let onset = ICSWriter.stamp(start, TimeZone(secondsFromGMT: offsetFrom)!, "yyyyMMdd'T'HHmmss")
        var lines = ["BEGIN:\(kind)", "DTSTART:\(onset)", "TZOFFSETFROM:\(offset(offsetFrom))", "TZOFFSETTO:\(offset(offsetTo))"]
        if let name, !name.isEmpty { lines.append("TZNAME:" + ICSWriter.escape(name)) }
        lines.append("END:\(kind)")
        return lines
    }

    static func offset(_ seconds: Int) -> String {
        let sign = seconds < 0 ? "-" : "+"
        let magnitude = abs(seconds)
        let (hours, minutes, rest) = (magnitude / 3600, magnitude % 3600 / 60, magnitude % 60)
        return sign + String(format: "%02d%02d", hours, minutes) + (rest == 0 ? "" : String(format: "%02d", rest))
    }
}
