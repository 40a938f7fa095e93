import CLibPQ

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Connection keywords for `PQconnectStartParams`, parsed once from a libpq connection string
/// (URI or `key=value`) so that a malformed string fails at start-up rather than at the first
/// checkout.
///
/// The values include the password; this type deliberately has no useful description.
struct PQConnectionParameters: Sendable, CustomStringConvertible {
    private var keywords: [String] = []
    private var values: [String] = []

    var description: String { "PQConnectionParameters(<redacted>)" }

    init(connectionString: String, database: String?, applicationName: String?) throws {
        guard !connectionString.utf8.contains(0) else {
            throw PostgresError(code: .invalidConfiguration, message: "the connection string contains a NUL byte")
        }
        var errorMessage: UnsafeMutablePointer<CChar>? = nil
        guard let options = PQconninfoParse(connectionString, &errorMessage) else {
            let reason = errorMessage.map { String(cString: $0) } ?? "out of memory"
            if let errorMessage { PQfreemem(errorMessage) }
            throw PostgresError(
                code: .invalidConfiguration,
                message: "invalid PostgreSQL connection string: \(reason.trimmingTrailingWhitespace())")
        }
        defer { PQconninfoFree(options) }

        var option = options
        while let keyword = option.pointee.keyword {
            if let value = option.pointee.val {
                keywords.append(String(cString: keyword))
                values.append(String(cString: value))
            }
            option += 1
        }
        if let database { set("dbname", to: database) }
        // Text results are decoded as UTF-8, whatever the server's or the environment's default.
        set("client_encoding", to: "UTF8")
        if let applicationName { setIfAbsent("application_name", to: applicationName) }
    }

    func value(for keyword: String) -> String? {
        keywords.firstIndex(of: keyword).map { values[$0] }
    }

    private mutating func set(_ keyword: String, to value: String) {
        if let index = keywords.firstIndex(of: keyword) {
            values[index] = value
        } else {
            keywords.append(keyword)
            values.append(value)
        }
    }

    private mutating func setIfAbsent(_ keyword: String, to value: String) {
        if !keywords.contains(keyword) { set(keyword, to: value) }
    }

    /// Calls `body` with NULL-terminated C arrays of keywords and values.
    func withCArrays<R>(
        _ body: (UnsafePointer<UnsafePointer<CChar>?>, UnsafePointer<UnsafePointer<CChar>?>) -> R
    ) -> R {
        let cKeywords: [UnsafeMutablePointer<CChar>?] = keywords.map { strdup($0) } + [nil]
        let cValues: [UnsafeMutablePointer<CChar>?] = values.map { strdup($0) } + [nil]
        defer {
            for pointer in cKeywords { free(pointer) }
            for pointer in cValues { free(pointer) }
        }
        let constKeywords = cKeywords.map { $0.map { UnsafePointer($0) } }
        let constValues = cValues.map { $0.map { UnsafePointer($0) } }
        return constKeywords.withUnsafeBufferPointer { keywordBuffer in
            constValues.withUnsafeBufferPointer { valueBuffer in
                body(keywordBuffer.baseAddress!, valueBuffer.baseAddress!)
            }
        }
    }
}

extension String {
    func trimmingTrailingWhitespace() -> String {
        var result = Substring(self)
        while let last = result.last, last.isWhitespace { result.removeLast() }
        return String(result)
    }
}
