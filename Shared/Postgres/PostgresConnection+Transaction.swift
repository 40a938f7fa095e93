import Logging

/// The isolation level a transaction starts with (`BEGIN ISOLATION LEVEL …`).
public enum PostgresIsolationLevel: Sendable, Hashable {
    case readCommitted
    case repeatableRead
    case serializable

    var sql: String {
        switch self {
        case .readCommitted: return "READ COMMITTED"
        case .repeatableRead: return "REPEATABLE READ"
        case .serializable: return "SERIALIZABLE"
        }
    }
}

extension PostgresConnection {
    /// Runs `body` inside `BEGIN … COMMIT`, rolling back if it throws.
    ///
    /// On a serialization failure (40001) or deadlock (40P01) — from any statement or from
    /// COMMIT — the transaction is rolled back and `body` runs again, up to `maxAttempts` times
    /// in all, so `body` must be safe to repeat (no side effects outside the database).
    @discardableResult
    public func withTransaction<Result>(
        isolation: isolated (any Actor)? = #isolation,
        isolationLevel: PostgresIsolationLevel? = nil,
        maxAttempts: Int = 3,
        file: String = #fileID,
        line: Int = #line,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        var attempt = 1
        while true {
            do {
                return try await transactionAttempt(isolationLevel: isolationLevel, file: file, line: line, body)
            } catch let error as PostgresError where error.isTransactionConflict && attempt < maxAttempts {
                guard !Task.isCancelled else { throw CancellationError() }
                logger.debug(
                    "transaction conflict; retrying",
                    metadata: ["postgres.sqlstate": "\(error.sqlState ?? "")", "postgres.attempt": "\(attempt)"])
                try await Task.sleep(for: Self.conflictBackoff(afterAttempt: attempt))
                attempt += 1
            }
        }
    }

    /// How long to wait before re-running a transaction that lost a conflict: a random time up
    /// to 5 ms × 2^(attempt − 1), at most 500 ms ("full jitter"). The jitter keeps two
    /// transactions from colliding again in lockstep; the growth lets the winner commit even on
    /// a loaded machine, where a fixed few milliseconds can end before it does.
    static func conflictBackoff(afterAttempt attempt: Int) -> Duration {
        let ceiling = min(500, 5 << min(max(attempt - 1, 0), 7))
        return .milliseconds(Int.random(in: 1...ceiling))
    }

    private func transactionAttempt<Result>(
        isolation: isolated (any Actor)? = #isolation,
        isolationLevel: PostgresIsolationLevel?,
        file: String,
        line: Int,
        _ body: (PostgresConnection) async throws -> Result
    ) async throws -> Result {
        let begin = isolationLevel.map { "BEGIN ISOLATION LEVEL \($0.sql)" } ?? "BEGIN"
        try await execute(PostgresQuery(unsafeSQL: begin), file: file, line: line)
        let result: Result
        let commit: PostgresRows
        do {
            result = try await body(self)
            commit = try await query("COMMIT", file: file, line: line)
        } catch {
            await rollbackIfInTransaction(file: file, line: line)
            throw error
        }
        // COMMIT of a transaction in which a statement failed (and the error was swallowed)
        // "succeeds" with the tag ROLLBACK: that must not look like a commit.
        guard commit.commandTag != "ROLLBACK" else {
            throw PostgresError(
                code: .server, message: "the transaction was rolled back because a statement in it failed",
                sqlState: "25P02", file: file, line: line)
        }
        return result
    }

    /// Runs even when the task is cancelled: a cancelled transaction must still end.
    private func rollbackIfInTransaction(file: String, line: Int) async {
        guard pq.condition == .inTransaction else { return }
        _ = try? await run(cancellable: false) { pq in try pq.executeScript("ROLLBACK", file: file, line: line) }
    }
}
