import Foundation

/// The seed files shipped for the built-in sources (the `Seeds` resource folder), or an
/// operator's folder laid out the same way:
///
///     mappings/<source>.json     CSV mappings (format: mappings/README.md)
///     categories/<source>.json   label → canonical category tables (categories/README.md)
struct SeedFiles: Sendable {
    let directory: URL

    init(directory: URL) {
        self.directory = directory
    }

    /// The folder bundled with this executable.
    static var bundled: SeedFiles {
        guard let url = Bundle.module.url(forResource: "Seeds", withExtension: nil) else {
            fatalError("the Seeds resource folder is missing from the bundle; the build is broken")
        }
        return SeedFiles(directory: url)
    }

    var mappingsDirectory: URL { directory.appendingPathComponent("mappings", isDirectory: true) }
    var categoriesDirectory: URL { directory.appendingPathComponent("categories", isDirectory: true) }

    /// Source ids that have a CSV mapping, sorted.
    func mappingSources() throws(CSVMappingError) -> [String] {
        try Self.sources(in: mappingsDirectory)
    }

    /// Source ids that have a category table, sorted.
    func categorySources() throws(CSVMappingError) -> [String] {
        try Self.sources(in: categoriesDirectory)
    }

    /// The CSV mapping of `source`; the file's own `source` must match its name.
    func mapping(source: String) throws(CSVMappingError) -> CSVMapping {
        let url = mappingsDirectory.appendingPathComponent("\(source).json")
        let mapping = try CSVMapping(contentsOf: url)
        guard mapping.source == source else {
            throw CSVMappingError(.invalidValue, "\(url.lastPathComponent) declares source \"\(mapping.source)\"", path: "source")
        }
        return mapping
    }

    func mappings() throws(CSVMappingError) -> [CSVMapping] {
        var result: [CSVMapping] = []
        for source in try mappingSources() { result.append(try mapping(source: source)) }
        return result
    }

    /// The category table of `source`; the file's own `source` must match its name.
    func categories(source: String) throws(CSVMappingError) -> CategorySeed {
        let url = categoriesDirectory.appendingPathComponent("\(source).json")
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CSVMappingError(.io, "cannot read \(url.path): \(error.localizedDescription)")
        }
        let seed = try CategorySeed(json: data)
        guard seed.source == source else {
            throw CSVMappingError(.invalidValue, "\(url.lastPathComponent) declares source \"\(seed.source)\"", path: "source")
        }
        return seed
    }

    /// Every category table, by source id.
    func allCategories() throws(CSVMappingError) -> [String: CategorySeed] {
        var result: [String: CategorySeed] = [:]
        for source in try categorySources() { result[source] = try categories(source: source) }
        return result
    }

    private static func sources(in directory: URL) throws(CSVMappingError) -> [String] {
        let names: [String]
        do {
            names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
        } catch {
            throw CSVMappingError(.io, "cannot list \(directory.path): \(error.localizedDescription)")
        }
        return names.filter { $0.hasSuffix(".json") }.map { String($0.dropLast(".json".count)) }.sorted()
    }
}
