import Contracts
import Foundation

/// What the solver decided for a request: the slot, who is free, and every occurrence
/// (placed, or excluded with the reason).
struct MeetingPlan: Sendable {
    struct Occurrence: Sendable {
        var start: Date
        var end: Date
        var venueID: UUID?
        /// `nil` when placed; otherwise why the occurrence became an EXDATE.
        var exclusionReason: String?
        /// Required invitees free at this occurrence: their time is booked.
        var booked: [UUID]
    }

    var invitees: [AvailabilityLoader.InviteeRecord]
    var available: Set<UUID>
    var venueID: UUID?
    var occurrences: [Occurrence]
    var objective: SlotObjective

    var first: Occurrence { occurrences[0] }
}

/// The request cannot be met; `reason` is written for a coordinator.
public struct Unschedulable: Error, CustomStringConvertible {
    public var reason: String
    public var description: String { reason }
}

/// Invitees named by id that are not stakeholders.
public struct UnknownInvitees: Error {
    public var errors: [ProblemDetails.FieldError]
}

import ServiceKit
