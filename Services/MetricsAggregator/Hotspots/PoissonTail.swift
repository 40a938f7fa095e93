import Foundation

/// Upper tail of the Poisson distribution, P(X ≥ k | λ), summed from k upward in log space
/// so that very small probabilities keep their precision.
enum PoissonTail {
    static func probability(atLeast k: Int, mean lambda: Double) -> Double {
        if k <= 0 { return 1 }
        if lambda <= 0 { return 0 }
        var term = exp(-lambda + Double(k) * log(lambda) - lgamma(Double(k) + 1))
        var sum = 0.0
        var index = k
        // Terms grow while index < λ and shrink after; stop once they no longer matter.
        while true {
            sum += term
            index += 1
            term *= lambda / Double(index)
            if Double(index) > lambda && term < sum * 1e-17 { break }
            if index > k + 100_000 { break }
        }
        return min(1, sum)
    }
}
