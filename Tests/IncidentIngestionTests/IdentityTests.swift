import Foundation
import Testing
import TestSupport

@testable import IncidentIngestion

@Suite("Incident identity (UUIDv5)")
struct IdentityTests {
    static let pairs: [(source: String, externalId: String)] = [
        ("nyc-311", "64345465"),
        ("chicago-clear", "JE163990"),
        ("café-rms", "警察-🚨-42"),
        // The same visible text in decomposed form is a different name: bytes, not glyphs.
        ("cafe\u{301}-rms", "x"),
        // U+001F inside the external id cannot be confused with the separator.
        ("a", "b\u{1F}c"),
        ("source", ""),
        ("long", String(repeating: "x", count: 256)),
    ]

    /// Vectors computed once with Python 3.11 (`uuid.uuid5(namespace, f"{source}\x1f{external_id}")`):
    /// they pin the published contract, so a change to namespace or name layout fails here.
    @Test("ids are fixed by the contract")
    func pinnedVectors() {
        #expect(IncidentIdentity.namespace.uuidString.lowercased() == "dbe917a7-f472-41a0-854d-39ba861a6872")
        #expect(IncidentIdentity.id(source: "nyc-311", externalId: "64345465") == UUID(uuidString: "50667f28-42e9-5c30-9481-2d6d5b277f26"))
        #expect(IncidentIdentity.id(source: "chicago-clear", externalId: "JE163990") == UUID(uuidString: "0c39eac5-944b-5484-b44e-60408b190ea2"))
        #expect(IncidentIdentity.id(source: "café-rms", externalId: "警察-🚨-42") == UUID(uuidString: "c8aaa139-58f9-5bb0-8292-9e852e9d1b7c"))
        #expect(IncidentIdentity.id(source: "a", externalId: "b\u{1F}c") == UUID(uuidString: "2c9730e1-da13-5b94-a250-41d5b0c99b06"))
    }

    @Test("RFC 4122 name-based UUID matches the standard DNS-namespace example")
    func standardNamespace() throws {
        let dns = try #require(UUID(uuidString: "6ba7b810-9dad-11d1-80b4-00c04fd430c8"))
        #expect(IncidentIdentity.uuidV5(namespace: dns, name: Array("python.org".utf8)) == UUID(uuidString: "886313e1-3b8a-5372-9b90-0c9aee199e5d"))
    }

    @Test("version 5, RFC 4122 variant, stable across calls, distinct per pair")
    func versionAndVariant() {
        var seen = Set<UUID>()
        for (source, externalId) in Self.pairs {
            let id = IncidentIdentity.id(source: source, externalId: externalId)
            #expect(id.uuid.6 >> 4 == 5)
            #expect(id.uuid.8 >> 6 == 0b10)
            #expect(id == IncidentIdentity.id(source: source, externalId: externalId))
            seen.insert(id)
        }
        #expect(seen.count == Self.pairs.count)
        #expect(IncidentIdentity.id(source: "ab", externalId: "c") != IncidentIdentity.id(source: "a", externalId: "bc"))
    }

    @Test("ids equal Python's uuid.uuid5, computed live")
    func matchesPython() async throws {
        let python = URL(fileURLWithPath: "/usr/bin/python3")
        let script = """
            import sys, uuid
            ns = uuid.UUID(sys.argv[1])
            args = sys.argv[2:]
            for source, external_id in zip(args[0::2], args[1::2]):
                print(uuid.uuid5(ns, source + "\\x1f" + external_id))
            """
        var arguments = ["-c", script, IncidentIdentity.namespace.uuidString]
        for (source, externalId) in Self.pairs { arguments += [source, externalId] }
        let judge = try ChildProcess(python, arguments: arguments, environment: ["PYTHONIOENCODING": "utf-8", "LC_ALL": "C.UTF-8"])
        let status = try await judge.waitForExit(timeout: .seconds(30))
        try #require(status == 0, "python3 failed: \(judge.standardError)")
        try await eventually("all of python's lines", timeout: .seconds(5), interval: .milliseconds(20)) {
            judge.lines.count == Self.pairs.count
        }
        for ((source, externalId), line) in zip(Self.pairs, judge.lines) {
            let expected = try #require(UUID(uuidString: line), "python printed \(line)")
            #expect(IncidentIdentity.id(source: source, externalId: externalId) == expected, "\(source) / \(externalId)")
        }
    }
}
