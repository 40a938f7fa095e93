import Foundation

extension CSVMapping {
    /// The raw-incident JSON object (SPEC §4.1) for one row, and what the mapping could not convert.
    ///
    /// Keys without a value are left out. Times become RFC 3339 with the offset in force in
    /// `timeZone` at that moment; a time that does not match its pattern, or that a
    /// daylight-saving change skips (see `CSVDaylightSavingPolicy`), stays the raw text, so the
    /// validator rejects the record naming it. Coordinates that are not finite numbers stay
    /// text likewise. A missing required value (external id, category, occurrence time) is a
    /// problem here and left for validation to reject; nothing is filled in.
    func record(from row: [String: String]) -> (json: [String: Any], problems: [String]) {
        record { row[$0] }
    }

    func record(from row: CSVRow) -> (json: [String: Any], problems: [String]) {
        record { row[$0] }
    }

    private func record(lookup: (String) -> String?) -> (json: [String: Any], problems: [String]) {
        var json: [String: Any] = ["source": source]
        var problems: [String] = []

        func text(_ key: String, _ binding: Columns?, required: Bool = false) -> String? {
            guard let binding else { return nil }
            let (value, absent) = binding.value(in: lookup)
            if !absent.isEmpty {
                problems.append("\(key): the row has no column \(absent.map { "\"\($0)\"" }.joined(separator: ", "))")
            }
            if value == nil, required {
                problems.append("\(key): no value in \(binding.columns.map { "\"\($0)\"" }.joined(separator: " or "))")
            }
            return value
        }

        func time(_ key: String, _ binding: TimeColumns?, required: Bool = false) {
            guard let binding, let raw = text(key, binding.columns, required: required) else { return }
            switch binding.format.read(raw) {
            case .absolute(let rfc3339):
                json[key] = rfc3339
            case .local(let wallTime):
                switch wallTime.rfc3339(in: timeZone, policy: daylightSaving) {
                case .success(let rfc3339):
                    json[key] = rfc3339
                case .failure(let problem):
                    json[key] = raw
                    let zone = timeZone.identifier
                    switch problem {
                    case .nonexistent: problems.append("\(key): \"\(raw)\" does not exist in \(zone) (skipped by a daylight-saving change)")
                    case .ambiguous: problems.append("\(key): \"\(raw)\" happens twice in \(zone) (repeated by a daylight-saving change)")
                    case .fractionalMinuteOffset: problems.append("\(key): \"\(raw)\" falls where \(zone) has an offset RFC 3339 cannot write")
                    }
                }
            case nil:
                json[key] = raw
                problems.append("\(key): \"\(raw)\" does not match the format \"\(binding.format)\"")
            }
        }

        func coordinate(_ key: String, _ binding: Columns?) -> Any? {
            guard let raw = text(key, binding) else { return nil }
            guard let number = Double(raw), number.isFinite else {
                problems.append("\(key): \"\(raw)\" is not a number")
                return raw
            }
            return number
        }

        if let value = text("external_id", fields.externalID, required: true) { json["external_id"] = value }
        if let value = text("category", fields.category, required: true) { json["category"] = value }
        if let value = text("description", fields.description) { json["description"] = value }
        time("occurred_at", fields.occurredAt, required: true)
        time("reported_at", fields.reportedAt)
        time("closed_at", fields.closedAt)
        time("updated_at", fields.updatedAt)

        if let status = fields.status, let raw = text("status", status.columns) {
            if let mapped = status.values[raw] ?? status.ifPresent {
                json["status"] = mapped
            } else {
                json["status"] = raw
                problems.append("status: \"\(raw)\" is not among the mapping's status values")
            }
        }

        var location: [String: Any] = [:]
        let latitude = coordinate("latitude", fields.latitude)
        let longitude = coordinate("longitude", fields.longitude)
        if let latitude { location["lat"] = latitude }
        if let longitude { location["lon"] = longitude }
        if (latitude == nil) != (longitude == nil) {
            problems.append("location: only one of latitude and longitude has a value")
        }
        if let address = text("address", fields.address) { location["address"] = address }
        if !location.isEmpty { json["location"] = location }

        if let hint = text("area_hint", fields.areaHint) { json["area_hint"] = hint }

        let values = attributeValues(lookup: lookup, problems: &problems)
        if !values.isEmpty { json["attributes"] = values }
        return (json, problems)
    }

    private func attributeValues(lookup: (String) -> String?, problems: inout [String]) -> [String: Any] {
        var result: [String: Any] = [:]
        for attribute in attributes {
            guard let value = lookup(attribute.column) else {
                problems.append("attributes.\(attribute.key): the row has no column \"\(attribute.column)\"")
                continue
            }
            if !value.allSatisfy(\.isWhitespace) { result[attribute.key] = value }
        }
        return result
    }
}
