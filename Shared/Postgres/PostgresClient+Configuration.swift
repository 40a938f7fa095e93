extension PostgresClient {
    /// How to reach the server and how large the pool may grow.
    ///
    /// `description` and reflection leave out the connection string: it usually holds a password.
    public struct Configuration: Sendable, CustomStringConvertible, CustomReflectable {
        /// A libpq connection string: `postgresql://user:pass@host:5432/db?sslmode=require` or
        /// `host=… port=… dbname=… user=…`.
        public var connectionString: String
        /// Replaces the database named in `connectionString`, if set.
        public var database: String?
        /// The most connections the pool opens at once (LISTEN connections are extra).
        public var maxConnections: Int
        /// The limit for establishing one connection (DNS, TCP, TLS and authentication).
        public var connectTimeout: Duration
        /// `application_name` reported to the server, unless the connection string sets one.
        public var applicationName: String?
        /// First and longest pause between reconnect attempts of a LISTEN connection.
        public var listenReconnectDelay: Duration
        public var listenMaximumReconnectDelay: Duration

        public init(
            connectionString: String,
            maxConnections: Int = 10,
            connectTimeout: Duration = .seconds(10),
            applicationName: String? = nil
        ) {
            self.connectionString = connectionString
            self.maxConnections = maxConnections
            self.connectTimeout = connectTimeout
            self.applicationName = applicationName
            self.listenReconnectDelay = .milliseconds(100)
            self.listenMaximumReconnectDelay = .seconds(5)
        }

        public var description: String {
            "PostgresClient.Configuration(database: \(database ?? "<from connection string>"), "
                + "maxConnections: \(maxConnections), connectTimeout: \(connectTimeout))"
        }

        public var customMirror: Mirror {
            Mirror(
                self,
                children: [
                    "database": database as Any, "maxConnections": maxConnections,
                    "connectTimeout": connectTimeout, "applicationName": applicationName as Any,
                ])
        }

        /// Parses and checks everything; throws `.invalidConfiguration` with a clear reason.
        func makeParameters() throws -> PQConnectionParameters {
            guard maxConnections >= 1 else {
                throw PostgresError(
                    code: .invalidConfiguration, message: "maxConnections must be at least 1, not \(maxConnections)")
            }
            guard connectTimeout > .zero else {
                throw PostgresError(code: .invalidConfiguration, message: "connectTimeout must be positive")
            }
            return try PQConnectionParameters(
                connectionString: connectionString, database: database, applicationName: applicationName)
        }
    }
}
