/// Sorted, disjoint, non-adjacent half-open intervals of seconds since 1970: when someone or
/// something is free. Built once per request, then only asked "is this span inside?".
public struct IntervalSet: Sendable, Equatable {
    public private(set) var intervals: [Range<Int64>]

    public init(_ intervals: [Range<Int64>] = []) {
        self.intervals = Self.normalized(intervals)
    }

    public static func everything(_ span: Range<Int64>) -> IntervalSet { IntervalSet([span]) }

    public var isEmpty: Bool { intervals.isEmpty }

    /// Whether `span` lies wholly inside one interval (binary search).
    public func contains(_ span: Range<Int64>) -> Bool {
        var (low, high) = (0, intervals.count)
        while low < high {
            let middle = (low + high) / 2
            if intervals[middle].lowerBound <= span.lowerBound { low = middle + 1 } else { high = middle }
        }
        guard low > 0 else { return false }
        return intervals[low - 1].upperBound >= span.upperBound
    }

    /// This set without `removed` (busy blocks, other meetings).
    public func subtracting(_ removed: [Range<Int64>]) -> IntervalSet {
        let cuts = Self.normalized(removed)
        var result: [Range<Int64>] = []
        var cutIndex = 0
        for interval in intervals {
            var start = interval.lowerBound
            while cutIndex < cuts.count, cuts[cutIndex].upperBound <= start { cutIndex += 1 }
            var index = cutIndex
            while index < cuts.count, cuts[index].lowerBound < interval.upperBound {
                if cuts[index].lowerBound > start { result.append(start..<cuts[index].lowerBound) }
                start = max(start, cuts[index].upperBound)
                index += 1
            }
            if start < interval.upperBound { result.append(start..<interval.upperBound) }
        }
        var set = IntervalSet()
        set.intervals = result
        return set
    }

    static func normalized(_ intervals: [Range<Int64>]) -> [Range<Int64>] {
        let sorted = intervals.filter { !$0.isEmpty }.sorted { $0.lowerBound < $1.lowerBound }
        var merged: [Range<Int64>] = []
        merged.reserveCapacity(sorted.count)
        for interval in sorted {
            if let last = merged.last, interval.lowerBound <= last.upperBound {
                merged[merged.count - 1] = last.lowerBound..<max(last.upperBound, interval.upperBound)
            } else {
                merged.append(interval)
            }
        }
        return merged
    }
}
