import Contracts
import Foundation

/// One source's category table as shipped in `Seeds/categories/<source>.json`: the source's
/// own labels → canonical codes of the taxonomy (SPEC §4.2). Seeded into PostgreSQL; the
/// file format and the judgement calls behind it are in `Seeds/categories/README.md`.
struct CategorySeed: Sendable, Hashable, Decodable {
    var source: String
    var taxonomyVersion: Int
    /// The CSV columns the labels come from, in the order the mapping consults them.
    var columns: [String]
    /// Source label, exactly as the source writes it → canonical code.
    var labels: [String: IncidentCategory]

    private enum CodingKeys: String, CodingKey {
        case source
        case taxonomyVersion = "taxonomy_version"
        case columns
        case labels
    }

    init(source: String, taxonomyVersion: Int = IncidentCategory.taxonomyVersion, columns: [String], labels: [String: IncidentCategory]) {
        self.source = source
        self.taxonomyVersion = taxonomyVersion
        self.columns = columns
        self.labels = labels
    }

    /// Decodes the JSON file; an unknown code or another taxonomy version is an error, not `other`.
    init(json data: Data) throws(CSVMappingError) {
        let seed: CategorySeed
        do {
            seed = try JSONDecoder().decode(CategorySeed.self, from: data)
        } catch {
            throw CSVMappingError(.invalidValue, "not a category seed: \(error)")
        }
        guard seed.taxonomyVersion == IncidentCategory.taxonomyVersion else {
            throw CSVMappingError(
                .invalidValue, "taxonomy_version \(seed.taxonomyVersion); this build knows \(IncidentCategory.taxonomyVersion)",
                path: "taxonomy_version")
        }
        self = seed
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        source = try container.decode(String.self, forKey: .source)
        taxonomyVersion = try container.decode(Int.self, forKey: .taxonomyVersion)
        columns = try container.decodeIfPresent([String].self, forKey: .columns) ?? []
        var labels: [String: IncidentCategory] = [:]
        for (label, code) in try container.decode([String: String].self, forKey: .labels) {
            guard let category = IncidentCategory(rawValue: code) else {
                throw DecodingError.dataCorruptedError(
                    forKey: .labels, in: container, debugDescription: "label \"\(label)\" maps to \"\(code)\", which is not a canonical code")
            }
            labels[label] = category
        }
        self.labels = labels
    }
}
