import Contracts
import Foundation

/// Every subscription in memory, indexed so that matching an incident looks at the few that
/// could apply, never at all of them: by area id, by a coarse latitude/longitude grid for
/// circles, and a short list of subscriptions that cover everywhere. Immutable; the catalog
/// swaps in a new one when subscriptions change.
public struct SubscriptionIndex: Sendable {
    /// A subscription with what matching and delivery need of its stakeholder.
    public struct Entry: Sendable {
        public var subscription: Subscription
        public var role: StakeholderRole
        public var timezone: String
        /// The subscription's channels that exist and are enabled, with their type.
        public var channels: [(id: UUID, type: ChannelType)]
        let categories: Set<IncidentCategory>?
        let groups: Set<CategoryGroup>?

        public init(subscription: Subscription, role: StakeholderRole, timezone: String, channels: [(id: UUID, type: ChannelType)]) {
            self.subscription = subscription
            self.role = role
            self.timezone = timezone
            self.channels = channels
            self.categories = subscription.categories.map(Set.init)
            self.groups = subscription.categoryGroups.map(Set.init)
        }

        /// Category and severity (place is decided by the index).
        func accepts(category: IncidentCategory, group: CategoryGroup, severity: Int) -> Bool {
            guard severity >= subscription.minSeverity else { return false }
            if categories == nil && groups == nil { return true }
            return categories?.contains(category) == true || groups?.contains(group) == true
        }
    }

    struct GridKey: Hashable {
        var row: Int
        var column: Int
    }

    /// Grid cells of a quarter degree (about 28 km north–south): a circle of at most 50 km
    /// touches a handful of cells.
    static let cellDegrees = 0.25

    public let entries: [Entry]
    private let byArea: [String: [Int]]
    private let byCell: [GridKey: [Int]]
    private let everywhere: [Int]

    public init(_ entries: [Entry]) {
        self.entries = entries
        var byArea: [String: [Int]] = [:]
        var byCell: [GridKey: [Int]] = [:]
        var everywhere: [Int] = []
        for (index, entry) in entries.enumerated() {
            let subscription = entry.subscription
            for area in Set(subscription.areas ?? []) { byArea[area, default: []].append(index) }
            if let circle = subscription.circle {
                for key in Self.cells(covering: circle) { byCell[key, default: []].append(index) }
            }
            if subscription.areas == nil && subscription.circle == nil { everywhere.append(index) }
        }
        self.byArea = byArea
        self.byCell = byCell
        self.everywhere = everywhere
    }

    public var count: Int { entries.count }

    /// Indices into `entries` of the subscriptions `incident` matches, each once, in index order.
    /// Place: the incident's area is one of the subscription's areas, or its point lies in the
    /// subscription's circle (a circle ignores area borders), or the subscription has neither.
    public func matches(_ incident: CanonicalIncident) -> [Int] {
        var candidates = Set(everywhere)
        candidates.formUnion(byArea[incident.areaId] ?? [])
        if let point = incident.location?.coordinate {
            for index in byCell[Self.cell(lat: point.lat, lon: point.lon)] ?? [] {
                guard let circle = entries[index].subscription.circle else { continue }
                if Self.distanceMetres(point.lat, point.lon, circle.lat, circle.lon) <= circle.radiusM { candidates.insert(index) }
            }
        }
        return candidates.filter {
            entries[$0].accepts(category: incident.category, group: incident.categoryGroup, severity: incident.severity)
        }.sorted()
    }

    static func cell(lat: Double, lon: Double) -> GridKey {
        GridKey(row: Int((lat / cellDegrees).rounded(.down)), column: Int((lon / cellDegrees).rounded(.down)))
    }

    /// Every grid cell the circle's bounding box touches (longitude wraps at ±180°).
    static func cells(covering circle: Subscription.Circle) -> [GridKey] {
        let latDelta = circle.radiusM / 111_320
        let cosine = cos(circle.lat * .pi / 180)
        let lonDelta = cosine < 0.01 ? 180 : min(180, circle.radiusM / (111_320 * cosine))
        let low = cell(lat: max(-90, circle.lat - latDelta), lon: circle.lon - lonDelta)
        let high = cell(lat: min(90, circle.lat + latDelta), lon: circle.lon + lonDelta)
        let columnsAround = Int((360 / cellDegrees).rounded())
        var keys: [GridKey] = []
        for row in low.row...high.row {
            for column in low.column...min(high.column, low.column + columnsAround - 1) {
                // Normalise columns into [-180°, 180°) so a circle across the antimeridian is found.
                let half = columnsAround / 2
                let wrapped = ((column + half) % columnsAround + columnsAround) % columnsAround - half
                keys.append(GridKey(row: row, column: wrapped))
            }
        }
        return keys
    }

    /// Great-circle distance (haversine, mean Earth radius).
    static func distanceMetres(_ lat1: Double, _ lon1: Double, _ lat2: Double, _ lon2: Double) -> Double {
        let radians = Double.pi / 180
        let dLat = (lat2 - lat1) * radians
        let dLon = (lon2 - lon1) * radians
        let a = sin(dLat / 2) * sin(dLat / 2) + cos(lat1 * radians) * cos(lat2 * radians) * sin(dLon / 2) * sin(dLon / 2)
        return 2 * 6_371_008.8 * asin(min(1, sqrt(a)))
    }
}
