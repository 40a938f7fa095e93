import Contracts
import Foundation

/// The slot the solver picked.
public struct SlotChoice: Sendable, Equatable {
    public var start: Int64
    public var venueID: UUID?
    /// Ids of the invitees free at `start`, in the problem's order.
    public var available: [UUID]
    public var objective: SlotObjective
}

/// Why no slot works, for a coordinator: what never happens in the window, and the slot
/// that came closest.
public struct SlotMiss: Sendable, Equatable {
    public struct RoleShortfall: Sendable, Equatable {
        public var role: StakeholderRole
        public var needed: Int
        public var invited: Int
        public var mostAvailable: Int
    }

    public struct NearestMiss: Sendable, Equatable {
        public var start: Int64
        public var rolesMet: Int
        public var rolesNeeded: Int
        public var venueFree: Bool
    }

    public var noStarts: Bool
    /// Starts were limited to the days a recurrence rule names.
    public var startsRestricted: Bool
    public var durationMinutes: Int
    public var shortfalls: [RoleShortfall]
    public var venueNeeds: SchedulingProblem.VenueNeeds?
    /// A venue meeting the needs exists at all / is free at some start.
    public var suitableVenueExists: Bool
    public var venueEverFree: Bool
    public var nearest: NearestMiss?

    /// E.g. "no slot has a local_government member available; nearest miss: Tue 14 Jan 18:00, 2 of 3 roles".
    public func explanation(in timeZone: TimeZone) -> String {
        if noStarts {
            return startsRestricted
                ? "no day in the window is a day the recurrence rule names (a \(durationMinutes)-minute meeting must fit in the window)"
                : "the window is shorter than the meeting (\(durationMinutes) minutes)"
        }
        var reasons: [String] = []
        for shortfall in shortfalls {
            let role = shortfall.role.rawValue
            let members = shortfall.needed == 1 ? "a \(role) member" : "\(shortfall.needed) \(role) members"
            if shortfall.invited == 0 {
                reasons.append("no \(role) member is invited")
            } else if shortfall.invited < shortfall.needed {
                reasons.append("only \(shortfall.invited) \(role) member\(shortfall.invited == 1 ? " is" : "s are") invited, the meeting needs \(shortfall.needed)")
            } else {
                reasons.append("no slot has \(members) available")
            }
        }
        if let needs = venueNeeds, !venueEverFree {
            let description = "capacity ≥ \(needs.minimumCapacity)" + (needs.accessible ? " and step-free access" : "")
            reasons.append(suitableVenueExists ? "no venue with \(description) is free in the window" : "no venue has \(description)")
        }
        if reasons.isEmpty {
            reasons.append(venueNeeds == nil ? "no slot has every role available at once" : "no slot has every role available and a venue free at once")
        }
        var text = reasons.joined(separator: "; ")
        if let nearest {
            text += "; nearest miss: \(Self.format(nearest.start, in: timeZone)), \(nearest.rolesMet) of \(nearest.rolesNeeded) roles"
            if venueNeeds != nil && !nearest.venueFree { text += ", no venue free" }
        }
        return text
    }

    static func format(_ seconds: Int64, in timeZone: TimeZone) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = timeZone
        formatter.dateFormat = "EEE d MMM HH:mm"
        return formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds)))
    }
}

public enum SlotOutcome: Sendable, Equatable {
    case scheduled(SlotChoice)
    case impossible(SlotMiss)
}

/// Picks the quarter-hour start in the window that meets the representation rule and the venue
/// needs with the most available invitees (required before optional), the earliest on ties.
///
/// Starts are visited in order, so each invitee's and venue's "interval that could contain this
/// span" only moves forward: one pass over the starts with a cursor per invitee, O(starts ×
/// invitees) without searching.
public enum SlotSolver {
    public static func solve(_ problem: SchedulingProblem) -> SlotOutcome {
        let roles = problem.representation.filter { $0.value > 0 }.sorted { $0.key.rawValue < $1.key.rawValue }
        let roleIndex = problem.invitees.map { invitee in roles.firstIndex { $0.key == invitee.role } ?? -1 }
        let venues = problem.venueNeeds.map { needs in
            problem.venues.filter { needs.admits(capacity: $0.capacity, accessible: $0.accessible) }
                .sorted { ($0.capacity, $0.id.uuidString) < ($1.capacity, $1.id.uuidString) }
        } ?? []
        let totalRequired = problem.invitees.filter(\.required).count
        let ceiling = SlotObjective(required: totalRequired, optional: problem.invitees.count - totalRequired)

        var inviteeCursor = [Int](repeating: 0, count: problem.invitees.count)
        var venueCursor = [Int](repeating: 0, count: venues.count)
        var roleCounts = [Int](repeating: 0, count: roles.count)
        var mostPerRole = [Int](repeating: 0, count: roles.count)
        var best: (start: Int64, venue: UUID?, objective: SlotObjective)?
        var nearest: (miss: SlotMiss.NearestMiss, score: Int, available: Int)?
        var venueEverFree = false
        var anyStart = false

        for start in problem.candidateStarts where problem.allows(start) {
            anyStart = true
            let span = problem.span(at: start)
            for index in roleCounts.indices { roleCounts[index] = 0 }
            var objective = SlotObjective(required: 0, optional: 0)
            for (index, invitee) in problem.invitees.enumerated() {
                guard Self.covers(invitee.free.intervals, &inviteeCursor[index], span) else { continue }
                if invitee.required { objective.required += 1 } else { objective.optional += 1 }
                if roleIndex[index] >= 0 { roleCounts[roleIndex[index]] += 1 }
            }
            var rolesMet = 0
            for (index, role) in roles.enumerated() {
                mostPerRole[index] = max(mostPerRole[index], roleCounts[index])
                if roleCounts[index] >= role.value { rolesMet += 1 }
            }
            var venue: UUID?
            for (index, candidate) in venues.enumerated() where Self.covers(candidate.free.intervals, &venueCursor[index], span) {
                venue = candidate.id
                break
            }
            let venueFree = problem.venueNeeds == nil || venue != nil
            if venue != nil { venueEverFree = true }
            if rolesMet == roles.count && venueFree {
                if best == nil || objective > best!.objective {
                    best = (start, venue, objective)
                    if objective == ceiling { break }
                }
            } else if best == nil {
                let score = rolesMet + (venueFree ? 1 : 0)
                let available = objective.required + objective.optional
                if nearest == nil || (score, available) > (nearest!.score, nearest!.available) {
                    nearest = (SlotMiss.NearestMiss(start: start, rolesMet: rolesMet, rolesNeeded: roles.count, venueFree: venueFree), score, available)
                }
            }
        }

        if let best {
            let span = problem.span(at: best.start)
            let available = problem.invitees.filter { $0.free.contains(span) }.map(\.id)
            return .scheduled(SlotChoice(start: best.start, venueID: best.venue, available: available, objective: best.objective))
        }
        let shortfalls = roles.enumerated().compactMap { index, role -> SlotMiss.RoleShortfall? in
            guard mostPerRole[index] < role.value else { return nil }
            return SlotMiss.RoleShortfall(
                role: role.key, needed: role.value, invited: problem.invitees.filter { $0.role == role.key }.count, mostAvailable: mostPerRole[index])
        }
        return .impossible(SlotMiss(
            noStarts: !anyStart, startsRestricted: problem.allowedStarts != nil, durationMinutes: Int(problem.duration / 60), shortfalls: shortfalls, venueNeeds: problem.venueNeeds,
            suitableVenueExists: !venues.isEmpty, venueEverFree: venueEverFree, nearest: nearest?.miss))
    }

    /// Whether `span` lies inside one of `intervals`, moving `cursor` forward to the last
    /// interval starting at or before the span (spans only move later between calls).
    @inline(__always)
    static func covers(_ intervals: [Range<Int64>], _ cursor: inout Int, _ span: Range<Int64>) -> Bool {
        guard !intervals.isEmpty else { return false }
        while cursor + 1 < intervals.count, intervals[cursor + 1].lowerBound <= span.lowerBound { cursor += 1 }
        let interval = intervals[cursor]
        return interval.lowerBound <= span.lowerBound && interval.upperBound >= span.upperBound
    }
}
