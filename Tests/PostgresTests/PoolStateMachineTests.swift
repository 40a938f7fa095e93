import Testing

@testable import Postgres

/// The pool's bookkeeping, driven with plain values (no server).
@Suite struct PoolStateMachineTests {
    typealias Machine = PostgresClient.StateMachine<String, Int, String, String>

    @Test func opensUpToTheLimitThenQueues() {
        var machine = Machine(maxConnections: 2)
        #expect(isConnect(machine.lease()))
        #expect(isConnect(machine.lease()))
        #expect(isWait(machine.lease()))
        #expect(machine.enqueue(1, id: 1, isCancelled: false).resume.isEmpty)
        #expect(machine.waiterCount == 1)

        #expect(machine.connected("a").use)
        #expect(machine.connected("b").use)
        #expect(machine.leased == 2)

        // Returning a healthy connection hands it straight to the waiter.
        let actions = machine.release("a", reusable: true)
        #expect(actions.resume.count == 1)
        #expect(actions.resume.first?.0 == 1)
        #expect(machine.leased == 2)
        #expect(machine.waiterCount == 0)
    }

    @Test func brokenConnectionsFreeTheirSlot() {
        var machine = Machine(maxConnections: 1)
        #expect(isConnect(machine.lease()))
        _ = machine.connected("a")
        _ = machine.enqueue(7, id: 7, isCancelled: false)
        let actions = machine.release("a", reusable: false)
        #expect(actions.close == ["a"])
        // The waiter gets the slot and opens a fresh connection itself.
        #expect(actions.resume.count == 1)
        if case .connectSlot = actions.resume[0].1 {} else { Issue.record("expected a connect slot") }
        #expect(machine.connecting == 1)
    }

    @Test func failedConnectPassesTheSlotOn() {
        var machine = Machine(maxConnections: 1)
        #expect(isConnect(machine.lease()))
        _ = machine.enqueue(3, id: 3, isCancelled: false)
        let actions = machine.connectFailed()
        #expect(actions.resume.count == 1)
        #expect(machine.connecting == 1)
    }

    @Test func idleConnectionsAreReusedMostRecentFirst() {
        var machine = Machine(maxConnections: 3)
        for name in ["a", "b"] {
            _ = machine.lease()
            _ = machine.connected(name)
        }
        _ = machine.release("a", reusable: true)
        _ = machine.release("b", reusable: true)
        guard case .use(let connection) = machine.lease() else {
            Issue.record("expected an idle connection")
            return
        }
        #expect(connection == "b")
    }

    @Test func cancelledWaitersLeaveTheQueue() {
        var machine = Machine(maxConnections: 1)
        _ = machine.lease()
        #expect(machine.enqueue(1, id: 1, isCancelled: true).cancel == [1])
        _ = machine.enqueue(2, id: 2, isCancelled: false)
        #expect(machine.cancelWaiter(id: 2).cancel == [2])
        #expect(machine.cancelWaiter(id: 2).cancel.isEmpty)
        #expect(machine.waiterCount == 0)
    }

    @Test func shutdownDrainsThenCompletes() {
        var machine = Machine(maxConnections: 2)
        _ = machine.lease()
        _ = machine.connected("a")
        _ = machine.lease()
        _ = machine.connected("b")
        _ = machine.release("b", reusable: true)
        let added = machine.addListener("listener", id: 1)
        #expect(added)
        #expect(machine.waitForShutdown("runner").finishShutdown.isEmpty)

        let shutdown = machine.shutdown()
        #expect(shutdown.close == ["b"])
        #expect(shutdown.stopListeners == ["listener"])
        #expect(shutdown.finishShutdown.isEmpty)  // "a" is still leased
        #expect(machine.lifecycle == .draining)
        if case .fail(let code) = machine.lease() {
            #expect(code == .poolClosed)
        } else {
            Issue.record("lease after shutdown")
        }
        let addedLate = machine.addListener("late", id: 2)
        #expect(!addedLate)

        let last = machine.release("a", reusable: true)
        #expect(last.close == ["a"])
        #expect(last.finishShutdown == ["runner"])
        #expect(machine.lifecycle == .closed)
        #expect(machine.waitForShutdown("late").finishShutdown == ["late"])
    }

    @Test func connectionOpenedDuringShutdownIsClosed() {
        var machine = Machine(maxConnections: 1)
        _ = machine.lease()
        _ = machine.enqueue(9, id: 9, isCancelled: false)
        let shutdown = machine.shutdown()
        #expect(shutdown.fail.map(\.0) == [9])
        let outcome = machine.connected("late")
        #expect(!outcome.use)
        #expect(outcome.actions.close == ["late"])
        #expect(machine.lifecycle == .closed)
    }

    private func isConnect(_ decision: Machine.LeaseDecision) -> Bool {
        if case .connect = decision { return true }
        return false
    }

    private func isWait(_ decision: Machine.LeaseDecision) -> Bool {
        if case .wait = decision { return true }
        return false
    }
}
