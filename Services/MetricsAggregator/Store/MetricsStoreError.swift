/// Why the aggregator could not apply or read its state. `description` names the condition,
/// never a row's content.
public struct MetricsStoreError: Error, CustomStringConvertible {
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        let name: String
        public var description: String { name }
        public static let dimensionSetMissing = Code(name: "dimension_set_missing")
        public static let corruptUpdateLog = Code(name: "corrupt_update_log")
    }

    public var code: Code
    public var message: String
    public var file: String
    public var line: Int

    init(_ code: Code, _ message: String, file: String = #fileID, line: Int = #line) {
        self.code = code
        self.message = message
        self.file = file
        self.line = line
    }

    public var description: String { "\(code): \(message) (\(file):\(line))" }
}
