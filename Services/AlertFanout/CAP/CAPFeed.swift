import Contracts
import Foundation
import Postgres

/// Writes CAP messages as incident revisions arrive (in the intake's transaction) and serves
/// them: an Atom index of recent messages, and each message by identifier.
public struct CAPFeed: Sendable {
    let postgres: PostgresClient
    let sender: String

    public init(postgres: PostgresClient, sender: String) {
        self.postgres = postgres
        self.sender = sender
    }

    /// Records the CAP message this revision calls for, if any. A redelivered revision writes
    /// nothing new (one message per revision).
    /// The latest CAP message of each incident that has one (one query for a whole batch).
    func previousMessages(for incidents: [UUID], in connection: PostgresConnection) async throws -> [UUID: (String, Date, String, Int)] {
        var previous: [UUID: (String, Date, String, Int)] = [:]
        for row in try await connection.query("""
            SELECT DISTINCT ON (incident_id) incident_id, identifier, sent, msg_type, revision FROM cap_messages
            WHERE incident_id = ANY(\(incidents)) ORDER BY incident_id, revision DESC
            """) {
            let (incident, identifier, sent, type, revision) = try row.decode((UUID, String, Date, String, Int).self)
            previous[incident] = (identifier, sent, type, revision)
        }
        return previous
    }

    /// Returns the message written, if any, so a batch carrying several revisions of one
    /// incident chains them.
    @discardableResult
    func record(
        _ incident: CanonicalIncident, previous: (String, Date, String, Int)?, fresh: Bool, at now: Date, in connection: PostgresConnection
    ) async throws -> (String, Date, String, Int)? {
        if let previous, previous.3 >= incident.revision || previous.2 == CAPMessage.MessageType.cancel.rawValue { return nil }
        // A historical import is not news: only a fresh incident starts a CAP thread.
        if previous == nil, !fresh { return nil }
        let publishable = CAPMessage.isPublishable(incident)
        let type: CAPMessage.MessageType
        switch (previous, publishable, AlertPlanner.isClosed(incident)) {
        case (nil, false, _), (nil, true, true): return nil
        case (nil, true, false): type = .alert
        case (.some, true, false): type = .update
        case (.some, _, _): type = .cancel
        }
        // A Cancel because the incident stopped being public (it became sensitive, or minor)
        // must not publish what it became: only the area and that the alert is withdrawn.
        var shown = incident
        if !publishable {
            shown.category = .other
            shown.categoryGroup = .nonCriminal
            shown.description = nil
            shown.location = nil
            shown.cell = nil
        }
        let message = CAPMessage(
            identifier: CAPMessage.identifier(incident: incident.id, revision: incident.revision), sender: sender, sent: now, msgType: type,
            references: previous.map { "\(sender),\($0.0),\(CAPMessage.capTime($0.1))" }, incident: shown)
        try await connection.execute("""
            INSERT INTO cap_messages (identifier, incident_id, revision, msg_type, sent, document)
            VALUES (\(message.identifier), \(incident.id), \(incident.revision), \(type.rawValue), \(now), \(message.xml))
            ON CONFLICT DO NOTHING
            """)
        return (message.identifier, now, type.rawValue, incident.revision)
    }

    public func document(identifier: String) async throws -> String? {
        try await postgres.query("SELECT document FROM cap_messages WHERE identifier = \(identifier)").first?.decode(0, as: String.self)
    }

    /// An Atom feed of the newest `limit` messages, each entry linking to its CAP document.
    public func atom(baseURL: String, limit: Int = 200) async throws -> String {
        let rows = try await postgres.query("""
            SELECT identifier, msg_type, sent, document FROM cap_messages ORDER BY sent DESC, identifier LIMIT \(limit)
            """).map { try $0.decode((String, String, Date, String).self) }
        let updated = rows.first?.2 ?? Date(timeIntervalSince1970: 0)
        var lines = [
            #"<?xml version="1.0" encoding="UTF-8"?>"#,
            #"<feed xmlns="http://www.w3.org/2005/Atom">"#,
            "  <id>\(CAPMessage.escape(baseURL))/v1/cap/alerts.xml</id>",
            "  <title>Coalition public alerts (CAP 1.2)</title>",
            "  <updated>\(RFC3339.string(from: updated))</updated>",
            "  <author><name>Coalition</name></author>",
            #"  <link rel="self" href="\#(CAPMessage.escape(baseURL))/v1/cap/alerts.xml"/>"#,
        ]
        for (identifier, type, sent, document) in rows {
            let headline = document.range(of: "<headline>").flatMap { start in
                document.range(of: "</headline>", range: start.upperBound..<document.endIndex).map { String(document[start.upperBound..<$0.lowerBound]) }
            } ?? identifier
            lines += [
                "  <entry>",
                "    <id>urn:coalition:cap:\(identifier)</id>",
                "    <title>\(type): \(headline)</title>",
                "    <updated>\(RFC3339.string(from: sent))</updated>",
                #"    <link rel="alternate" type="application/cap+xml" href="\#(CAPMessage.escape(baseURL))/v1/cap/alerts/\#(identifier).xml"/>"#,
                "  </entry>",
            ]
        }
        lines += ["</feed>", ""]
        return lines.joined(separator: "\n")
    }
}
