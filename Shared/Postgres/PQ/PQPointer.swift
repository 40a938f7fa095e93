/// A libpq handle (`PGconn *` or `PGcancel *`) that may cross threads.
///
/// libpq objects are not thread-safe, but they are not bound to the thread that created them
/// either: any thread may use one as long as no two threads use it at the same time. Every owner
/// in this folder guarantees that exclusivity — a `PQConnection` is touched only from its
/// connection's serial queue (or, for a listener, only from the listener's own thread), and a
/// `PGcancel` is documented by libpq as safe to use from any thread — which is what makes this
/// wrapper's `@unchecked Sendable` sound.
struct PQPointer: @unchecked Sendable {
    let raw: OpaquePointer
}
