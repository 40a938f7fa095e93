"""Peer for the scheduler benchmark: solves the same slot-finding instances with OR-Tools
CP-SAT, from the raw data (window, duration, buffer, free intervals), sharing no code with
the Swift solver.

    cpsat_peer.py INSTANCES.json

Model per instance: one boolean per quarter-hour start (exactly one chosen); an invitee
counts only if free over the chosen start's span (meeting plus buffers); a venue that meets
the needs must be free over it; every role reaches its minimum; maximise
(n + 1) * required present + optional present.

Prints one JSON line: {"objectives": [int | null, ...], "seconds": total solve seconds,
"statuses": [...]} (null: no feasible start).
"""
import json
import sys
import time

from ortools.sat.python import cp_model


def covers(intervals, low, high):
    return any(a <= low and b >= high for a, b in intervals)


def solve(instance):
    start, end = instance["window"]
    duration, buffer = instance["duration"], instance["buffer"]
    first = -(-start // 900) * 900
    starts = list(range(first, end - duration + 1, 900))
    if not starts:
        return None, "NO_STARTS"
    model = cp_model.CpModel()
    chosen = [model.NewBoolVar(f"s{k}") for k in range(len(starts))]
    model.AddExactlyOne(chosen)
    spans = [(s - buffer, s + duration + buffer) for s in starts]
    present = []
    for index, invitee in enumerate(instance["invitees"]):
        var = model.NewBoolVar(f"i{index}")
        free = [chosen[k] for k, (low, high) in enumerate(spans) if covers(invitee["free"], low, high)]
        model.Add(var <= sum(free)) if free else model.Add(var == 0)
        present.append(var)
    for role, minimum in instance["representation"].items():
        members = [present[i] for i, invitee in enumerate(instance["invitees"]) if invitee["role"] == role]
        if minimum > 0:
            model.Add(sum(members) >= minimum) if members else model.AddBoolOr([])
    needs = instance.get("venue_needs")
    if needs is not None:
        usable = [v for v in instance["venues"] if v["capacity"] >= needs["min_capacity"] and (v["accessible"] or not needs["accessible"])]
        booked = []
        for index, venue in enumerate(usable):
            var = model.NewBoolVar(f"v{index}")
            free = [chosen[k] for k, (low, high) in enumerate(spans) if covers(venue["free"], low, high)]
            model.Add(var <= sum(free)) if free else model.Add(var == 0)
            booked.append(var)
        model.Add(sum(booked) >= 1) if booked else model.AddBoolOr([])
    weight = len(instance["invitees"]) + 1
    required = [present[i] for i, invitee in enumerate(instance["invitees"]) if invitee["required"]]
    optional = [present[i] for i, invitee in enumerate(instance["invitees"]) if not invitee["required"]]
    model.Maximize(weight * sum(required) + sum(optional))
    solver = cp_model.CpSolver()
    solver.parameters.num_workers = 1
    solver.parameters.max_time_in_seconds = 60
    status = solver.Solve(model)
    if status == cp_model.OPTIMAL:
        return int(round(solver.ObjectiveValue())), "OPTIMAL"
    if status == cp_model.INFEASIBLE:
        return None, "INFEASIBLE"
    return None, solver.StatusName(status)


def main():
    with open(sys.argv[1]) as handle:
        instances = json.load(handle)["instances"]
    objectives, statuses = [], []
    began = time.perf_counter()
    for instance in instances:
        objective, status = solve(instance)
        objectives.append(objective)
        statuses.append(status)
    print(json.dumps({"objectives": objectives, "statuses": statuses, "seconds": time.perf_counter() - began}))


if __name__ == "__main__":
    main()
