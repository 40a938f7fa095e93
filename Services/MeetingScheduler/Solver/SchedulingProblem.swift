import Contracts
import Foundation

/// One slot-finding question, in plain values (seconds since 1970): who is invited and when
/// each is free, which venues could host it and when, the window, the duration and the
/// representation the meeting needs. The solver answers it without touching anything else.
public struct SchedulingProblem: Sendable {
    public struct Invitee: Sendable {
        public var id: UUID
        public var role: StakeholderRole
        public var required: Bool
        public var free: IntervalSet

        public init(id: UUID, role: StakeholderRole, required: Bool, free: IntervalSet) {
            self.id = id
            self.role = role
            self.required = required
            self.free = free
        }
    }

    public struct Venue: Sendable {
        public var id: UUID
        public var capacity: Int
        public var accessible: Bool
        public var free: IntervalSet

        public init(id: UUID, capacity: Int, accessible: Bool, free: IntervalSet) {
            self.id = id
            self.capacity = capacity
            self.accessible = accessible
            self.free = free
        }
    }

    public struct VenueNeeds: Sendable, Equatable {
        public var minimumCapacity: Int
        public var accessible: Bool

        public init(minimumCapacity: Int, accessible: Bool) {
            self.minimumCapacity = minimumCapacity
            self.accessible = accessible
        }

        public func admits(capacity: Int, accessible: Bool) -> Bool {
            capacity >= minimumCapacity && (!self.accessible || accessible)
        }
    }

    /// Starts are multiples of this many seconds (15 minutes).
    public static let granularity: Int64 = 900

    public var window: Range<Int64>
    public var duration: Int64
    /// Kept free before and after the meeting, for people and venue alike.
    public var buffer: Int64
    public var invitees: [Invitee]
    /// Minimum number of available invitees per role.
    public var representation: [StakeholderRole: Int]
    /// `nil`: the meeting needs no venue (none is booked).
    public var venueNeeds: VenueNeeds?
    public var venues: [Venue]
    /// When set, starts must fall inside it (a recurring meeting starts on a day its rule names).
    public var allowedStarts: IntervalSet?

    public init(
        window: Range<Int64>, duration: Int64, buffer: Int64 = 0, invitees: [Invitee], representation: [StakeholderRole: Int],
        venueNeeds: VenueNeeds?, venues: [Venue], allowedStarts: IntervalSet? = nil
    ) {
        self.allowedStarts = allowedStarts
        self.window = window
        self.duration = duration
        self.buffer = buffer
        self.invitees = invitees
        self.representation = representation
        self.venueNeeds = venueNeeds
        self.venues = venues
    }

    /// Every start the solver considers: quarter hours whose meeting ends inside the window.
    public var candidateStarts: StrideTo<Int64> {
        let g = Self.granularity
        let first = window.lowerBound % g == 0 ? window.lowerBound : (window.lowerBound / g + (window.lowerBound > 0 ? 1 : 0)) * g
        return stride(from: first, to: window.upperBound - duration + 1, by: Int(g))
    }

    /// What a person or venue must have free for a meeting starting at `start`.
    public func span(at start: Int64) -> Range<Int64> { (start - buffer)..<(start + duration + buffer) }

    public func allows(_ start: Int64) -> Bool { allowedStarts?.contains(start..<(start + 1)) ?? true }
}

/// How good a slot is: available required invitees first, then optional ones.
public struct SlotObjective: Sendable, Comparable, Hashable, CustomStringConvertible {
    public var required: Int
    public var optional: Int

    public init(required: Int, optional: Int) {
        self.required = required
        self.optional = optional
    }

    public static func < (a: SlotObjective, b: SlotObjective) -> Bool {
        (a.required, a.optional) < (b.required, b.optional)
    }

    public var description: String { "\(required) required + \(optional) optional" }
}
