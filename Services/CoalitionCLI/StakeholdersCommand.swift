import AlertFanout
import ArgumentParser
import Foundation

/// `coalition stakeholders …` and `coalition subscriptions …`: the same validation and
/// directory as the fan-out's HTTP API, straight against the database.
struct StakeholdersCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "stakeholders", abstract: "Manage the people and organisations alerts go to.",
        subcommands: [Add.self, List.self, Remove.self, RotateSecret.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a stakeholder with its channels; prints the id, and each webhook's signing secret (shown only now).")

        @Option(help: "Name.") var name: String
        @Option(help: "Role: law_enforcement, community_org, local_government, neighborhood_association, school, faith_org, business, service_provider, resident.")
        var role: String
        @Option(help: "Organisation.") var organization: String?
        @Option(help: "IANA time zone (quiet hours are in it).") var timezone = "UTC"
        @Option(help: "Webhook URL (https; repeatable).") var webhook: [String] = []
        @Option(help: "Email address (repeatable).") var email: [String] = []
        @Option(help: "SMS number in E.164 form (repeatable).") var sms: [String] = []
        @Flag(help: "Accept plain-http webhook URLs (local development).") var allowHTTP = false

        func run() async throws {
            var object: [String: Any] = ["name": name, "role": role, "timezone": timezone]
            if let organization { object["organization"] = organization }
            object["channels"] = webhook.map { ["type": "webhook", "url": $0] } + email.map { ["type": "email", "address": $0] }
                + sms.map { ["type": "sms", "number": $0] }
            let input = try StakeholderInput.parse(object, allowHTTPWebhooks: allowHTTP).mapError(CLIInputError.init).get()
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            let (stakeholder, secrets) = try await StakeholderDirectory(postgres: postgres).add(input)
            print("stakeholder \(stakeholder.id.uuidString.lowercased())\t\(stakeholder.name)\t\(stakeholder.role.rawValue)")
            for channel in stakeholder.channels {
                let secret = secrets[channel.id].map { "\tsecret \($0)" } ?? ""
                print("channel \(channel.id.uuidString.lowercased())\t\(channel.type.rawValue)\t\(channel.address)\(secret)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List stakeholders and their channels.")

        func run() async throws {
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            for stakeholder in try await StakeholderDirectory(postgres: postgres).list() {
                print("\(stakeholder.id.uuidString.lowercased())\t\(stakeholder.name)\t\(stakeholder.role.rawValue)\t\(stakeholder.organization ?? "-")\t\(stakeholder.timezone)")
                for channel in stakeholder.channels {
                    let state = channel.disabledReason.map { "\tDISABLED: \($0)" } ?? ""
                    print("  \(channel.id.uuidString.lowercased())\t\(channel.type.rawValue)\t\(channel.address)\(state)")
                }
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a stakeholder with its channels and subscriptions (deliveries stay as history).")

        @Argument(help: "Stakeholder id.") var id: String

        func run() async throws {
            guard let uuid = UUID(uuidString: id) else { throw ValidationError("\(id) is not a stakeholder id (a UUID)") }
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            guard try await StakeholderDirectory(postgres: postgres).remove(uuid) else { throw CLIInputError(message: "no stakeholder \(id)") }
            print("removed stakeholder \(id)")
        }
    }

    struct RotateSecret: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "rotate-secret",
            abstract: "New signing secret for a webhook channel (printed as the last line); the old one keeps signing during the overlap.")

        @Argument(help: "Webhook channel id.") var channel: String
        @Option(help: "Hours the previous secret stays valid.") var overlapHours = 24

        func run() async throws {
            guard let uuid = UUID(uuidString: channel) else { throw ValidationError("\(channel) is not a channel id (a UUID)") }
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            guard let secret = try await StakeholderDirectory(postgres: postgres).rotateSecret(channel: uuid, overlap: .seconds(overlapHours * 3600)) else {
                throw CLIInputError(message: "no webhook channel \(channel)")
            }
            print("new secret for \(channel); the previous one also signs for \(overlapHours) h:")
            print(secret)
        }
    }
}

struct SubscriptionsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "subscriptions", abstract: "Manage what each stakeholder is alerted about.",
        subcommands: [Add.self, List.self, Remove.self])

    struct Add: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Subscribe a stakeholder; prints the subscription id.")

        @Option(help: "Stakeholder id.") var stakeholder: String
        @Option(help: "Area id (repeatable). Without --area and --circle: everywhere.") var area: [String] = []
        @Option(help: "Circle as LAT,LON,RADIUS_M (radius at most 50000).") var circle: String?
        @Option(help: "Taxonomy category (repeatable). Without --category and --group: every category.") var category: [String] = []
        @Option(help: "Category group: person, property, society, non_criminal (repeatable).") var group: [String] = []
        @Option(help: "Minimum severity, 1–5.") var minSeverity = 1
        @Option(help: "Channel id (repeatable; default: all of the stakeholder's channels).") var channel: [String] = []
        @Option(help: "immediate, digest_hourly or digest_daily.") var mode = "immediate"
        @Option(help: "Quiet hours as HH:MM-HH:MM in the stakeholder's time zone.") var quietHours: String?
        @Flag(help: "Also send a notice when a notified incident is closed.") var notifyClosure = false

        func run() async throws {
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            let directory = StakeholderDirectory(postgres: postgres)
            var channels = channel
            if channels.isEmpty, let id = UUID(uuidString: stakeholder), let owner = try await directory.get(id) {
                channels = owner.channels.map { $0.id.uuidString.lowercased() }
            }
            var object: [String: Any] = ["stakeholder_id": stakeholder, "min_severity": minSeverity, "channel_ids": channels, "mode": mode,
                                         "notify_closure": notifyClosure]
            if !area.isEmpty { object["areas"] = area }
            if !category.isEmpty { object["categories"] = category }
            if !group.isEmpty { object["category_groups"] = group }
            if let circle {
                let parts = circle.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard parts.count == 3, let lat = parts[0], let lon = parts[1], let radius = parts[2] else {
                    throw ValidationError("--circle must be LAT,LON,RADIUS_M, e.g. 40.758,-73.9855,1500")
                }
                object["circle"] = ["lat": lat, "lon": lon, "radius_m": radius]
            }
            if let quietHours {
                let parts = quietHours.split(separator: "-").map(String.init)
                object["quiet_hours"] = parts.count == 2 ? ["start": parts[0], "end": parts[1]] : ["start": quietHours]
            }
            let input = try SubscriptionInput.parse(object).mapError(CLIInputError.init).get()
            do {
                let subscription = try await directory.addSubscription(input)
                print("subscription \(subscription.id.uuidString.lowercased())")
            } catch let refusal as StakeholderDirectory.Refusal {
                throw CLIInputError(FieldErrors(refusal.errors))
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List subscriptions.")

        @Option(help: "Only this stakeholder's.") var stakeholder: String?

        func run() async throws {
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            for subscription in try await StakeholderDirectory(postgres: postgres).subscriptions(of: stakeholder.flatMap(UUID.init(uuidString:))) {
                var place = subscription.areas.map { "areas " + $0.joined(separator: ",") } ?? ""
                if let circle = subscription.circle { place += (place.isEmpty ? "" : " or ") + "within \(Int(circle.radiusM)) m of \(circle.lat),\(circle.lon)" }
                let what = (subscription.categories?.map(\.rawValue) ?? []) + (subscription.categoryGroups?.map { "group:" + $0.rawValue } ?? [])
                print([
                    subscription.id.uuidString.lowercased(), subscription.stakeholderId.uuidString.lowercased(), place.isEmpty ? "everywhere" : place,
                    what.isEmpty ? "all categories" : what.joined(separator: ","), "severity>=\(subscription.minSeverity)", subscription.mode.rawValue,
                    subscription.quietHours.map { "quiet \($0.start)-\($0.end)" } ?? "no quiet hours",
                ].joined(separator: "\t"))
            }
        }
    }

    struct Remove: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Remove a subscription.")

        @Argument(help: "Subscription id.") var id: String

        func run() async throws {
            guard let uuid = UUID(uuidString: id) else { throw ValidationError("\(id) is not a subscription id (a UUID)") }
            let cli = CLIEnvironment()
            let postgres = try cli.postgres()
            defer { postgres.shutdown() }
            guard try await StakeholderDirectory(postgres: postgres).removeSubscription(uuid) else { throw CLIInputError(message: "no subscription \(id)") }
            print("removed subscription \(id)")
        }
    }
}

/// Input the CLI refuses, with every reason on its own line.
struct CLIInputError: Error, CustomStringConvertible {
    var message: String
    init(message: String) { self.message = message }
    init(_ errors: FieldErrors) {
        message = errors.errors.map { "\($0.field.isEmpty ? "input" : $0.field): \($0.message)" }.joined(separator: "\n")
    }
    var description: String { message }
}
