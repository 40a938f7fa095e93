import Logging
import Postgres

/// Runs `body` again while PostgreSQL is unavailable (a restart, a failover), with a doubling
/// delay up to 5 s, so a consumer never skips a record because the database blinked. Other
/// errors are thrown at once; cancellation (shutdown) ends the wait.
public func retryingWhileDatabaseUnavailable<Result>(
    logger: Logger, what: String, _ body: () async throws -> Result
) async throws -> Result {
    var delay: Duration = .milliseconds(100)
    while true {
        do {
            return try await body()
        } catch let error as PostgresError where error.isRetriable {
            logger.warning("database unavailable; retrying \(what)", metadata: ["error": "\(error)", "retry.delay": "\(delay)"])
            try await Task.sleep(for: delay)
            delay = min(delay * 2, .seconds(5))
        }
    }
}
