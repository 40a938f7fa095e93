#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `poll(2)` on libpq's socket, for the places where we drive libpq's asynchronous API
/// ourselves: connection set-up with our own deadline, and the LISTEN loop.
enum PQSocket {
    enum WaitResult { case ready, timedOut, cancelled }

    static let readable = Int16(POLLIN)
    static let writable = Int16(POLLOUT)

    /// Waits until `socket` is ready for `events`, the deadline passes or `isCancelled` turns
    /// true (checked every 100 ms, so a cancelled connection attempt stops promptly).
    static func wait(
        socket: Int32, for events: Int16, deadline: ContinuousClock.Instant, isCancelled: () -> Bool
    ) -> WaitResult {
        while true {
            if isCancelled() { return .cancelled }
            let remaining = ContinuousClock.now.duration(to: deadline)
            if remaining <= .zero { return .timedOut }
            var descriptor = pollfd(fd: socket, events: events, revents: 0)
            let result = poll(&descriptor, 1, milliseconds(min(remaining, .milliseconds(100))))
            // Errors and hang-ups count as "ready": libpq then reports what actually happened.
            if result > 0 || (result < 0 && errno != EINTR) { return .ready }
        }
    }

    enum Readiness { case socket, wakeUp, timedOut }

    /// Waits for input on `socket` (pass -1 to wait on `wakeUp` only) or on the wake-up pipe.
    static func waitForInput(socket: Int32, wakeUp: Int32, timeout: Duration?) -> Readiness {
        var descriptors = [
            pollfd(fd: wakeUp, events: readable, revents: 0),
            pollfd(fd: socket, events: readable, revents: 0),
        ]
        let count: nfds_t = socket >= 0 ? 2 : 1
        let deadline = timeout.map { ContinuousClock.now.advanced(by: $0) }
        while true {
            let wait = deadline.map { milliseconds(max(.zero, ContinuousClock.now.duration(to: $0))) } ?? -1
            let result = poll(&descriptors, count, wait)
            if result < 0 {
                if errno == EINTR { continue }
                return .socket  // let libpq discover the failure
            }
            if result == 0 { return .timedOut }
            if descriptors[0].revents != 0 { return .wakeUp }
            return .socket
        }
    }

    /// True if the peer has closed `socket` (an orderly EOF is waiting to be read).
    static func peerHasClosed(_ socket: Int32) -> Bool {
        var descriptor = pollfd(fd: socket, events: readable, revents: 0)
        guard poll(&descriptor, 1, 0) > 0 else { return false }
        if descriptor.revents & Int16(POLLHUP | POLLERR) != 0 { return true }
        var byte: UInt8 = 0
        return recv(socket, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) == 0
    }

    /// True if anything is waiting to be read on `socket`.
    static func hasInput(_ socket: Int32) -> Bool {
        var descriptor = pollfd(fd: socket, events: readable, revents: 0)
        return poll(&descriptor, 1, 0) > 0
    }

    private static func milliseconds(_ duration: Duration) -> Int32 {
        let (seconds, attoseconds) = duration.components
        let total = seconds * 1_000 + (attoseconds + 999_999_999_999_999) / 1_000_000_000_000_000
        return Int32(clamping: total)
    }
}
