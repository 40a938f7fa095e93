import Foundation

/// How one source's CSV export becomes raw incidents (SPEC §4.1). Written by operators as JSON;
/// the format is documented in `Seeds/mappings/README.md`.
///
/// A mapping only moves and converts: it never invents a value or repairs one. What it cannot
/// convert (a time that does not match the pattern, a coordinate that is not a number) goes on
/// as the raw text, so validation rejects the record with a reason.
struct CSVMapping: Sendable {
    /// Where a field's value comes from: the first column, in order, holding a value.
    /// Empty, blank and `missingValues` texts count as no value.
    struct Columns: Sendable, Hashable {
        var columns: [String]
        var missingValues: Set<String> = []

        init(_ columns: [String], missingValues: Set<String> = []) {
            self.columns = columns
            self.missingValues = missingValues
        }

        /// The value, and the columns the row does not have at all.
        func value(in lookup: (String) -> String?) -> (value: String?, absentColumns: [String]) {
            var absent: [String] = []
            for column in columns {
                guard let text = lookup(column) else {
                    absent.append(column)
                    continue
                }
                if text.allSatisfy(\.isWhitespace) || missingValues.contains(text) { continue }
                return (text, absent)
            }
            return (nil, absent)
        }
    }

    /// A time field: its columns and the pattern they are written in.
    struct TimeColumns: Sendable, Hashable {
        var columns: Columns
        var format: CSVTimeFormat
    }

    /// The status field: the source's values translated by `values`; `ifPresent` for any other value.
    struct StatusColumns: Sendable, Hashable {
        var columns: Columns
        var values: [String: String]
        var ifPresent: String?
    }

    /// Column → attribute key of the raw incident's `attributes`.
    struct Attribute: Sendable, Hashable {
        var column: String
        var key: String
    }

    /// The per-field bindings, one per raw-incident field.
    struct Fields: Sendable, Hashable {
        var externalID: Columns
        var category: Columns
        var description: Columns?
        var occurredAt: TimeColumns
        var reportedAt: TimeColumns?
        var closedAt: TimeColumns?
        var updatedAt: TimeColumns?
        var status: StatusColumns?
        var latitude: Columns?
        var longitude: Columns?
        var address: Columns?
        var areaHint: Columns?
    }

    static let formatVersion = 1

    var source: String
    var notes: String?
    /// The IANA zone the export's local times are read in.
    var timeZone: TimeZone
    var daylightSaving: CSVDaylightSavingPolicy
    var delimiter: Character
    var fields: Fields
    /// Sorted by column, so records list attributes in a stable order.
    var attributes: [Attribute]

    init(
        source: String, notes: String? = nil, timeZone: TimeZone, daylightSaving: CSVDaylightSavingPolicy = .init(),
        delimiter: Character = ",", fields: Fields, attributes: [Attribute] = []
    ) {
        self.source = source
        self.notes = notes
        self.timeZone = timeZone
        self.daylightSaving = daylightSaving
        self.delimiter = delimiter
        self.fields = fields
        self.attributes = attributes.sorted { $0.column < $1.column }
    }

    /// Every column the mapping reads.
    var referencedColumns: Set<String> {
        let f = fields
        var columns: [Columns] = [f.externalID, f.category, f.occurredAt.columns]
        for binding in [f.description, f.latitude, f.longitude, f.address, f.areaHint] { if let binding { columns.append(binding) } }
        for binding in [f.reportedAt, f.closedAt, f.updatedAt] { if let binding { columns.append(binding.columns) } }
        if let status = f.status { columns.append(status.columns) }
        return Set(columns.flatMap(\.columns) + attributes.map(\.column))
    }

    /// Fails naming every column the mapping reads that `header` lacks; check once before reading rows.
    func check(header: CSVHeader) throws(CSVMappingError) {
        let missing = referencedColumns.filter { !header.contains($0) }.sorted()
        guard missing.isEmpty else {
            throw CSVMappingError(
                .missingColumns,
                "the file has no column \(missing.map { "\"\($0)\"" }.joined(separator: ", ")) (mapping for \(source))")
        }
    }
}

// MARK: - Reading the JSON file

extension CSVMapping {
    init(contentsOf url: URL) throws(CSVMappingError) {
        let data: Data
        do {
            data = try Data(contentsOf: url)
        } catch {
            throw CSVMappingError(.io, "cannot read \(url.path): \(error.localizedDescription)")
        }
        try self.init(json: data)
    }

    init(json data: Data) throws(CSVMappingError) {
        let root: [String: Any]
        do {
            guard let object = try JSONSerialization.jsonObject(with: data) as? [String: Any] else {
                throw CSVMappingError(.invalidJSON, "a mapping is a JSON object")
            }
            root = object
        } catch let error as CSVMappingError {
            throw error
        } catch {
            throw CSVMappingError(.invalidJSON, "not valid JSON: \(error.localizedDescription)")
        }
        let reader = JSONObjectReader(root, path: "")
        try reader.allow(["format_version", "source", "notes", "time_zone", "daylight_saving", "delimiter", "fields", "attributes"])

        if let version: Int = try reader.optional("format_version"), version != Self.formatVersion {
            throw CSVMappingError(.invalidValue, "this version reads format_version \(Self.formatVersion), not \(version)", path: "format_version")
        }
        let source: String = try reader.required("source")
        guard !source.isEmpty, !source.contains(where: \.isWhitespace) else {
            throw CSVMappingError(.invalidValue, "a source id is non-empty and has no spaces", path: "source")
        }
        let zoneName: String = try reader.required("time_zone")
        guard let timeZone = TimeZone(identifier: zoneName) else {
            throw CSVMappingError(.invalidValue, "\"\(zoneName)\" is not an IANA time zone (e.g. America/New_York)", path: "time_zone")
        }
        var daylightSaving = CSVDaylightSavingPolicy()
        if let policy: [String: Any] = try reader.optional("daylight_saving") {
            let policyReader = JSONObjectReader(policy, path: "daylight_saving")
            try policyReader.allow(["ambiguous", "nonexistent"])
            if let text: String = try policyReader.optional("ambiguous") {
                guard let value = CSVDaylightSavingPolicy.Ambiguous(rawValue: text) else {
                    throw CSVMappingError(.invalidValue, "expected earlier, later or reject", path: "daylight_saving.ambiguous")
                }
                daylightSaving.ambiguous = value
            }
            if let text: String = try policyReader.optional("nonexistent") {
                guard let value = CSVDaylightSavingPolicy.Nonexistent(rawValue: text) else {
                    throw CSVMappingError(.invalidValue, "expected reject or shift_forward", path: "daylight_saving.nonexistent")
                }
                daylightSaving.nonexistent = value
            }
        }
        var delimiter: Character = ","
        if let text: String = try reader.optional("delimiter") {
            guard text.unicodeScalars.count == 1, let character = text.first, let byte = character.asciiValue,
                !"\"\r\n".utf8.contains(byte)
            else {
                throw CSVMappingError(.invalidValue, "a delimiter is one ASCII character other than a quote or line break", path: "delimiter")
            }
            delimiter = character
        }

        let fieldsObject: [String: Any] = try reader.required("fields")
        let fieldsReader = JSONObjectReader(fieldsObject, path: "fields")
        try fieldsReader.allow([
            "external_id", "category", "description", "occurred_at", "reported_at", "closed_at", "updated_at",
            "status", "latitude", "longitude", "address", "area_hint",
        ])
        let fields = Fields(
            externalID: try fieldsReader.columns("external_id")!,
            category: try fieldsReader.columns("category")!,
            description: try fieldsReader.columns("description", required: false),
            occurredAt: try fieldsReader.time("occurred_at")!,
            reportedAt: try fieldsReader.time("reported_at", required: false),
            closedAt: try fieldsReader.time("closed_at", required: false),
            updatedAt: try fieldsReader.time("updated_at", required: false),
            status: try fieldsReader.status("status"),
            latitude: try fieldsReader.columns("latitude", required: false),
            longitude: try fieldsReader.columns("longitude", required: false),
            address: try fieldsReader.columns("address", required: false),
            areaHint: try fieldsReader.columns("area_hint", required: false))
        if (fields.latitude == nil) != (fields.longitude == nil) {
            throw CSVMappingError(.invalidValue, "latitude and longitude are bound together or not at all", path: "fields")
        }

        var attributes: [Attribute] = []
        if let object: [String: Any] = try reader.optional("attributes") {
            var keys: [String: String] = [:]
            for (column, value) in object {
                guard let key = value as? String, !key.isEmpty else {
                    throw CSVMappingError(.invalidValue, "an attribute key is a non-empty string", path: "attributes.\(column)")
                }
                if let other = keys[key] {
                    throw CSVMappingError(.invalidValue, "columns \"\(other)\" and \"\(column)\" both feed attribute \"\(key)\"", path: "attributes")
                }
                keys[key] = column
                attributes.append(Attribute(column: column, key: key))
            }
        }
        self.init(
            source: source, notes: try reader.optional("notes"), timeZone: timeZone, daylightSaving: daylightSaving,
            delimiter: delimiter, fields: fields, attributes: attributes)
    }
}

/// Typed access to one JSON object, with errors that name the path.
private struct JSONObjectReader {
    let object: [String: Any]
    let path: String

    init(_ object: [String: Any], path: String) {
        self.object = object
        self.path = path
    }

    func at(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    func allow(_ keys: Set<String>) throws(CSVMappingError) {
        if let unknown = object.keys.sorted().first(where: { !keys.contains($0) }) {
            throw CSVMappingError(.unknownKey, "unknown key; expected one of \(keys.sorted().joined(separator: ", "))", path: at(unknown))
        }
    }

    func optional<Value>(_ key: String, as type: Value.Type = Value.self) throws(CSVMappingError) -> Value? {
        guard let raw = object[key], !(raw is NSNull) else { return nil }
        guard let value = raw as? Value else {
            throw CSVMappingError(.invalidValue, "expected \(Self.typeName(Value.self))", path: at(key))
        }
        return value
    }

    func required<Value>(_ key: String, as type: Value.Type = Value.self) throws(CSVMappingError) -> Value {
        guard let value: Value = try optional(key) else {
            throw CSVMappingError(.missingKey, "required", path: at(key))
        }
        return value
    }

    /// `{"column": "A"}` or `{"columns": ["A", "B"]}`, plus optional `missing_values`.
    func columns(_ key: String, required: Bool = true, extraKeys: Set<String> = []) throws(CSVMappingError) -> CSVMapping.Columns? {
        guard let object: [String: Any] = try optional(key) else {
            if required { throw CSVMappingError(.missingKey, "required", path: at(key)) }
            return nil
        }
        let reader = JSONObjectReader(object, path: at(key))
        try reader.allow(Set(["column", "columns", "missing_values"]).union(extraKeys))
        let single: String? = try reader.optional("column")
        let several: [String]? = try reader.optional("columns")
        let columns: [String]
        switch (single, several) {
        case (let column?, nil): columns = [column]
        case (nil, let list?) where !list.isEmpty: columns = list
        default: throw CSVMappingError(.invalidValue, "give either \"column\" or a non-empty \"columns\" list", path: at(key))
        }
        guard !columns.contains(where: \.isEmpty) else {
            throw CSVMappingError(.invalidValue, "a column name is non-empty", path: at(key))
        }
        let missing: [String] = try reader.optional("missing_values") ?? []
        return CSVMapping.Columns(columns, missingValues: Set(missing))
    }

    func time(_ key: String, required: Bool = true) throws(CSVMappingError) -> CSVMapping.TimeColumns? {
        guard let columns = try columns(key, required: required, extraKeys: ["format"]) else { return nil }
        let reader = JSONObjectReader(try self.required(key, as: [String: Any].self), path: at(key))
        let pattern: String = try reader.required("format")
        do {
            return CSVMapping.TimeColumns(columns: columns, format: try CSVTimeFormat(pattern))
        } catch {
            throw CSVMappingError(.invalidValue, error.message, path: reader.at("format"))
        }
    }

    func status(_ key: String) throws(CSVMappingError) -> CSVMapping.StatusColumns? {
        guard let columns = try columns(key, required: false, extraKeys: ["values", "if_present"]) else { return nil }
        let reader = JSONObjectReader(try self.required(key, as: [String: Any].self), path: at(key))
        let values: [String: String] = try reader.optional("values") ?? [:]
        let ifPresent: String? = try reader.optional("if_present")
        guard !values.isEmpty || ifPresent != nil else {
            throw CSVMappingError(.invalidValue, "give \"values\" (source value → status), \"if_present\", or both", path: at(key))
        }
        return CSVMapping.StatusColumns(columns: columns, values: values, ifPresent: ifPresent)
    }

    private static func typeName<Value>(_ type: Value.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Int.Type: "an integer"
        case is [String].Type: "a list of strings"
        case is [String: String].Type: "an object of strings"
        case is [String: Any].Type: "an object"
        default: "\(type)"
        }
    }
}
