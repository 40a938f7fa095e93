extension PostgresClient {
    /// What a task waiting for a connection is handed.
    enum Lease<Connection> {
        /// An open connection, now leased to the waiter.
        case connection(Connection)
        /// A free slot: the waiter opens the connection itself.
        case connectSlot
    }

    /// The pool's bookkeeping. Pure: it never performs I/O or resumes anything; its mutating
    /// methods return `Actions` that the client runs after releasing the lock.
    ///
    /// Generic so that tests can drive it with plain values.
    struct StateMachine<Connection, Waiter, ShutdownWaiter, Listener> {
        enum Lifecycle: Equatable {
            case running
            /// Shut down was requested; waiting for leased connections to come back.
            case draining
            case closed
        }

        enum LeaseDecision {
            case use(Connection)
            case connect
            case wait
            case fail(PostgresError.Code)
        }

        struct Actions {
            var close: [Connection] = []
            var resume: [(Waiter, Lease<Connection>)] = []
            var fail: [(Waiter, PostgresError.Code)] = []
            var cancel: [Waiter] = []
            var stopListeners: [Listener] = []
            var finishShutdown: [ShutdownWaiter] = []
        }

        let maxConnections: Int
        private(set) var lifecycle = Lifecycle.running
        private var idle: [Connection] = []
        private(set) var leased = 0
        private(set) var connecting = 0
        private var waiters: [(id: Int, waiter: Waiter)] = []
        private var shutdownWaiters: [ShutdownWaiter] = []
        private var listeners: [Int: Listener] = [:]

        init(maxConnections: Int) {
            precondition(maxConnections > 0)
            self.maxConnections = maxConnections
        }

        var idleCount: Int { idle.count }
        var waiterCount: Int { waiters.count }
        private var openOrOpening: Int { idle.count + leased + connecting }

        /// A task wants a connection.
        mutating func lease() -> LeaseDecision {
            guard lifecycle == .running else { return .fail(.poolClosed) }
            // Most recently used first: keeps a small set of connections warm.
            if let connection = idle.popLast() {
                leased += 1
                return .use(connection)
            }
            if openOrOpening < maxConnections {
                connecting += 1
                return .connect
            }
            return .wait
        }

        /// After `lease()` said `.wait`. Checks again, since the pool may have changed meanwhile.
        mutating func enqueue(_ waiter: Waiter, id: Int, isCancelled: Bool) -> Actions {
            var actions = Actions()
            if lifecycle != .running {
                actions.fail.append((waiter, .poolClosed))
            } else if isCancelled {
                actions.cancel.append(waiter)
            } else {
                switch lease() {
                case .use(let connection): actions.resume.append((waiter, .connection(connection)))
                case .connect: actions.resume.append((waiter, .connectSlot))
                case .fail(let code): actions.fail.append((waiter, code))
                case .wait: waiters.append((id, waiter))
                }
            }
            return actions
        }

        mutating func cancelWaiter(id: Int) -> Actions {
            var actions = Actions()
            if let index = waiters.firstIndex(where: { $0.id == id }) {
                actions.cancel.append(waiters.remove(at: index).waiter)
            }
            return actions
        }

        /// A `.connect` (or `.connectSlot`) attempt succeeded. `use` is false when the pool shut
        /// down meanwhile; the connection is then in `actions.close`.
        mutating func connected(_ connection: Connection) -> (use: Bool, actions: Actions) {
            connecting -= 1
            var actions = Actions()
            guard lifecycle == .running else {
                actions.close.append(connection)
                finishIfDrained(&actions)
                return (false, actions)
            }
            leased += 1
            return (true, actions)
        }

        /// A connection attempt failed: its slot goes to the next waiter, who tries in turn.
        mutating func connectFailed() -> Actions {
            connecting -= 1
            var actions = Actions()
            if lifecycle == .running, !waiters.isEmpty {
                connecting += 1
                actions.resume.append((waiters.removeFirst().waiter, .connectSlot))
            }
            finishIfDrained(&actions)
            return actions
        }

        /// A leased connection comes back; `reusable` is false if it broke or is mid-transaction.
        mutating func release(_ connection: Connection, reusable: Bool) -> Actions {
            leased -= 1
            var actions = Actions()
            guard lifecycle == .running else {
                actions.close.append(connection)
                finishIfDrained(&actions)
                return actions
            }
            if reusable {
                if waiters.isEmpty {
                    idle.append(connection)
                } else {
                    leased += 1
                    actions.resume.append((waiters.removeFirst().waiter, .connection(connection)))
                }
            } else {
                actions.close.append(connection)
                if !waiters.isEmpty {
                    connecting += 1
                    actions.resume.append((waiters.removeFirst().waiter, .connectSlot))
                }
            }
            return actions
        }

        /// Starts a graceful shutdown: idle connections close now, waiters fail, listeners stop,
        /// leased connections close when they come back.
        mutating func shutdown() -> Actions {
            var actions = Actions()
            guard lifecycle == .running else { return actions }
            lifecycle = .draining
            actions.close = idle
            idle = []
            actions.fail = waiters.map { ($0.waiter, .poolClosed) }
            waiters = []
            actions.stopListeners = Array(listeners.values)
            listeners = [:]
            finishIfDrained(&actions)
            return actions
        }

        /// Registers someone waiting for the shutdown to complete.
        mutating func waitForShutdown(_ waiter: ShutdownWaiter) -> Actions {
            var actions = Actions()
            if lifecycle == .closed {
                actions.finishShutdown.append(waiter)
            } else {
                shutdownWaiters.append(waiter)
            }
            return actions
        }

        /// False (and nothing registered) once shut down.
        mutating func addListener(_ listener: Listener, id: Int) -> Bool {
            guard lifecycle == .running else { return false }
            listeners[id] = listener
            return true
        }

        mutating func removeListener(id: Int) {
            listeners[id] = nil
        }

        private mutating func finishIfDrained(_ actions: inout Actions) {
            guard lifecycle == .draining, leased == 0, connecting == 0 else { return }
            lifecycle = .closed
            actions.finishShutdown += shutdownWaiters
            shutdownWaiters = []
        }
    }
}

extension PostgresClient.Lease: Sendable where Connection: Sendable {}

extension Result where Failure == any Error {
    /// `Result(catching:)` for async bodies.
    init(catching body: () async throws -> Success) async {
        do {
            self = .success(try await body())
        } catch {
            self = .failure(error)
        }
    }
}
