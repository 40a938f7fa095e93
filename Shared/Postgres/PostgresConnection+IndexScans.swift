extension PostgresConnection {
    /// For the rest of the transaction, plans avoid sequential and bitmap scans.
    ///
    /// For hot paths that reach their rows through an index in every statement: the fan-out's
    /// deliveries (planning a batch, claiming, recording, recovering leases), the outbox relay, the metrics
    /// aggregator's flushes. Until PostgreSQL has statistics
    /// for a table that grew fast — a fresh deployment, the first minute of the benchmark:
    /// autovacuum visits each database about once a minute — its estimates pick sequential or
    /// bitmap scans. Those read every row version written since the last vacuum, so each claim
    /// and each planned batch cost more the longer the service ran (measured: a bitmap scan
    /// reading all 15,000 entries of `deliveries_due` to find none due, the planning lookup
    /// reading the whole table). A plain index scan stops at its limit and marks the dead
    /// entries it passes, so the next scan skips them and the index stays small.
    public func preferIndexScans() async throws {
        try await execute("SELECT set_config('enable_seqscan', 'off', true), set_config('enable_bitmapscan', 'off', true)")
    }
}
