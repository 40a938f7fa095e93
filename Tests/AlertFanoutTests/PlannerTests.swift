import Contracts
import Foundation
import Testing
@testable import AlertFanout

/// At most one notification per (incident, channel), escalations and closure notices, and the
/// privacy rule for sensitive incidents.
@Suite("Alert planning")
struct PlannerTests {
    let channel = UUID()

    @Test("a first revision plans one `new` notification per channel, with a deterministic id")
    func firstRevision() throws {
        let incident = Fixtures.incident()
        let entry = Fixtures.entry(channels: [(channel, .webhook)])
        let planned = AlertPlanner.plan(incident, entries: [entry], prior: [])
        #expect(planned.map(\.reason) == ["new"])
        #expect(planned.first?.id == AlertPlanner.deliveryID(incident: incident.id, channel: channel, reason: "new"))
        #expect(AlertPlanner.plan(incident, entries: [entry], prior: []).first?.id == planned.first?.id)
    }

    @Test("two subscriptions of one stakeholder on the same channel: one notification naming both")
    func oneNotificationPerChannel() {
        let stakeholder = UUID()
        let first = Fixtures.entry(areas: ["downtown"], channels: [(channel, .webhook)], stakeholder: stakeholder)
        let second = Fixtures.entry(categories: [.theft], channels: [(channel, .webhook)], stakeholder: stakeholder)
        let planned = AlertPlanner.plan(Fixtures.incident(), entries: [first, second], prior: [])
        #expect(planned.count == 1)
        #expect(planned.first?.subscriptionIDs == [first.subscription.id, second.subscription.id])
    }

    @Test("a later revision: nothing unless the severity rose; each escalation once")
    func revisions() {
        let entry = Fixtures.entry(channels: [(channel, .webhook)])
        let id = UUID()
        let told = [AlertPlanner.Prior(channelID: channel, reason: "new", severity: 2)]
        #expect(AlertPlanner.plan(Fixtures.incident(id: id, revision: 2, severity: 2), entries: [entry], prior: told).isEmpty)
        let escalated = AlertPlanner.plan(Fixtures.incident(id: id, revision: 3, severity: 4), entries: [entry], prior: told)
        #expect(escalated.map(\.reason) == ["escalation-4"])
        let after = told + [.init(channelID: channel, reason: "escalation-4", severity: 4)]
        #expect(AlertPlanner.plan(Fixtures.incident(id: id, revision: 4, severity: 4), entries: [entry], prior: after).isEmpty)
    }

    @Test("closure: a notice only to channels told before that asked for it; nothing new starts")
    func closure() {
        let id = UUID()
        let asked = Fixtures.entry(channels: [(channel, .webhook)], notifyClosure: true)
        let other = UUID()
        let silent = Fixtures.entry(channels: [(other, .email)], notifyClosure: false)
        let told = [AlertPlanner.Prior(channelID: channel, reason: "new", severity: 2), .init(channelID: other, reason: "new", severity: 2)]
        let closed = Fixtures.incident(id: id, revision: 2, closed: true)
        #expect(AlertPlanner.plan(closed, entries: [asked, silent], prior: told).map(\.reason) == ["closure"])
        #expect(AlertPlanner.plan(closed, entries: [asked], prior: []).isEmpty, "never told: no closure notice")
        let noticed = told + [.init(channelID: channel, reason: "closure", severity: 2)]
        #expect(AlertPlanner.plan(closed, entries: [asked], prior: noticed).isEmpty)
    }

    @Test("sensitive incidents: law enforcement and service providers in full, everyone else area and category only")
    func privacy() throws {
        let sensitive = Fixtures.incident(category: .domesticViolence, description: "details that must not spread")
        for role in StakeholderRole.allCases {
            let payload = try #require(AlertPlanner.plan(sensitive, entries: [Fixtures.entry(role: role)], prior: []).first?.payload)
            let full = role == .lawEnforcement || role == .serviceProvider
            #expect(payload.generalized == !full, "\(role)")
            #expect((payload.incident.description != nil) == full, "\(role)")
            #expect((payload.incident.location != nil) == full, "\(role)")
            #expect((payload.incident.cell != nil) == full, "\(role)")
            #expect(payload.incident.areaId == "downtown")
            #expect(payload.incident.category == .domesticViolence)
            let json = String(decoding: try CoalitionJSON.encoder.encode(payload), as: UTF8.self)
            #expect(json.contains("must not spread") == full, "\(role)")
            #expect(json.contains("40.7128") == full, "\(role)")
        }
        let ordinary = try #require(AlertPlanner.plan(Fixtures.incident(), entries: [Fixtures.entry(role: .resident)], prior: []).first)
        #expect(ordinary.payload.incident.description == "bicycle taken from the rack")
        #expect(!ordinary.payload.generalized)
    }
}
