/// Who a stakeholder is in the coalition (SPEC §5). The fan-out decides privacy by it and the
/// scheduler counts representation by it.
public enum StakeholderRole: String, CaseIterable, Codable, Sendable {
    case lawEnforcement = "law_enforcement"
    case communityOrg = "community_org"
    case localGovernment = "local_government"
    case neighborhoodAssociation = "neighborhood_association"
    case school
    case faithOrg = "faith_org"
    case business
    case serviceProvider = "service_provider"
    case resident

    /// SPEC §6: only these roles see sensitive incidents in full (exact place, description).
    public var seesSensitiveDetail: Bool {
        switch self {
        case .lawEnforcement, .serviceProvider: true
        default: false
        }
    }
}
