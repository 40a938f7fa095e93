import Contracts
import Foundation
import ServiceKit

/// Streams a CSV export through the same validation, normalization and store as every other
/// intake path, in batches (`coalition import csv`).
public struct CSVImporter: Sendable {
    public struct Summary: Sendable, Equatable {
        public var read = 0
        public var accepted = 0
        public var updated = 0
        public var unchanged = 0
        public var rejected = 0
        /// Rejections counted by `field code`, e.g. `occurred_at missing_offset`.
        public var rejectedByReason: [String: Int] = [:]
    }

    public static let batchSize = 1000

    private let store: IncidentStore

    public init(store: IncidentStore) {
        self.store = store
    }

    /// The names of the shipped mappings (`Seeds/mappings`), usable as `--mapping NAME`.
    public static func shippedMappings() throws -> [String] {
        try SeedFiles.bundled.mappingSources()
    }

    /// Reads `file` with `mapping` (a shipped mapping's name or a path to a mapping file);
    /// `source` overrides the mapping's source id. `progress` is called after each batch.
    public func run(
        file: URL, mapping mappingReference: String, source: String? = nil,
        progress: (Summary) -> Void = { _ in }
    ) async throws -> Summary {
        let mapping: CSVMapping
        if FileManager.default.fileExists(atPath: mappingReference) {
            mapping = try CSVMapping(contentsOf: URL(fileURLWithPath: mappingReference))
        } else {
            mapping = try SeedFiles.bundled.mapping(source: mappingReference)
        }
        let reader = try CSVReader(url: file)
        var summary = Summary()
        var valid: [RawIncident] = []
        var rejected: [RejectedSubmission] = []

        func flush() async throws {
            let outcomes = try await store.ingest(valid, rejected: rejected, channel: "csv")
            for outcome in outcomes {
                switch outcome.status {
                case .accepted: summary.accepted += 1
                case .updated: summary.updated += 1
                case .unchanged: summary.unchanged += 1
                case .rejected:
                    summary.rejected += 1
                    for error in outcome.errors { summary.rejectedByReason["\(error.field) \(error.code)", default: 0] += 1 }
                }
            }
            summary.rejected += rejected.count
            for submission in rejected {
                for error in submission.errors { summary.rejectedByReason["\(error.field) \(error.code)", default: 0] += 1 }
            }
            valid.removeAll(keepingCapacity: true)
            rejected.removeAll(keepingCapacity: true)
            progress(summary)
        }

        while let row = try reader.nextRecord() {
            summary.read += 1
            var (json, _) = mapping.record(from: row)
            if let source { json["source"] = source }
            switch IncidentValidator.validate(json) {
            case .success(let incident):
                valid.append(incident)
            case .failure(let failure):
                let original = Array(row.fields.joined(separator: ",").utf8)
                rejected.append(RejectedSubmission(
                    source: json["source"] as? String, externalId: json["external_id"] as? String,
                    original: original, errors: failure.errors, channel: "csv:line \(row.line)"))
            }
            if valid.count + rejected.count >= Self.batchSize { try await flush() }
        }
        if !valid.isEmpty || !rejected.isEmpty { try await flush() }
        return summary
    }
}

/// Category tables shipped for the built-in sources (`Seeds/categories`).
public enum ShippedCategories {
    public static func labels(for source: String) -> [String: IncidentCategory]? {
        guard (try? SeedFiles.bundled.categorySources())?.contains(source) == true else { return nil }
        return try? SeedFiles.bundled.categories(source: source).labels
    }
}
