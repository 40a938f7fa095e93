import AlertFanout
import Mail
import ServiceKit

/// Settings of `alert-fanout`, read from `COALITION_*` variables (README, "Configuration").
struct AlertFanoutConfiguration: ServiceConfiguration {
    var common: CommonConfiguration
    /// `COALITION_FANOUT_ALLOW_HTTP_WEBHOOKS`: accept plain-http webhook URLs (local development).
    var allowHTTPWebhooks: Bool
    /// `COALITION_FANOUT_ALLOWED_NETWORKS`: comma-separated CIDRs webhooks may target although
    /// private or loopback (e.g. `127.0.0.0/8` for `make run`). Empty by default.
    var allowedNetworks: [TargetGuard.Network]
    /// `COALITION_FANOUT_WEBHOOK_TIMEOUT`: per request (default 10s).
    var webhookTimeout: Duration
    /// `COALITION_FANOUT_RETRY_INITIAL` / `_RETRY_MAX` / `_GIVE_UP_AFTER`: the backoff schedule.
    var retry: RetrySchedule
    /// `COALITION_FANOUT_DISABLE_AFTER_FAILURES`: consecutive failed attempts that disable an endpoint.
    var disableAfterFailures: Int
    /// `COALITION_FANOUT_RATE_LIMIT_PER_HOUR`: most notifications per channel per hour (`0` = none).
    var perRecipientHourlyLimit: Int
    /// `COALITION_FANOUT_CONCURRENCY`: notifications claimed and not yet recorded, per instance.
    var concurrency: Int
    /// `COALITION_FANOUT_LEASE`: how long a claimed delivery is this instance's before another may retry it.
    var lease: Duration
    /// `COALITION_FANOUT_POLL_INTERVAL`: how often due retries are looked for.
    var pollInterval: Duration
    /// `COALITION_FANOUT_MAX_INCIDENT_AGE`: older incidents are not alerted when first seen.
    var maximumIncidentAge: Duration
    /// `COALITION_FANOUT_SECRET_OVERLAP`: how long a rotated-out webhook secret still signs.
    var secretOverlap: Duration
    /// `COALITION_SMTP_URL` (`smtp://host:587`, `smtps://host:465`), `_SECURITY` (`required` STARTTLS,
    /// `optional`, `none`), `_USERNAME`, `_PASSWORD`, `_FROM`. Unset URL: email deliveries are suppressed.
    var smtp: SMTPClient.Settings?
    var mailFrom: String
    /// `COALITION_SMS_BASE_URL` (a Twilio-compatible API), `_ACCOUNT_SID`, `_AUTH_TOKEN`, `_FROM`.
    /// Unset URL: SMS deliveries are suppressed.
    var sms: SMSSender.Settings?
    /// `COALITION_PUBLIC_URL`: the service's public base URL (CAP feed links); default: the request's host over http.
    var publicURL: String?
    /// `COALITION_CAP_SENDER`: the CAP `sender` of the public feed (an address that identifies this coalition).
    var capSender: String
    /// `COALITION_FANOUT_GROUP_WAIT` / `_GROUP_INTERVAL` / `_URGENT_SEVERITY` / `_DIGEST_HOUR`: timing.
    var policy: DeliveryPolicy

    init(environment: Environment) throws(ConfigurationError) {
        common = try CommonConfiguration(environment: environment, serviceName: "alert-fanout", defaultHTTPPort: 8082)
        allowHTTPWebhooks = try environment.bool("COALITION_FANOUT_ALLOW_HTTP_WEBHOOKS", default: false)
        var networks: [TargetGuard.Network] = []
        for item in environment.string("COALITION_FANOUT_ALLOWED_NETWORKS", default: "").split(separator: ",") {
            let text = item.trimmingCharacters(in: .whitespaces)
            guard !text.isEmpty else { continue }
            guard let network = TargetGuard.Network(text) else {
                throw ConfigurationError(variable: "COALITION_FANOUT_ALLOWED_NETWORKS", message: "\(text) is not an IP address or CIDR network")
            }
            networks.append(network)
        }
        allowedNetworks = networks
        webhookTimeout = try environment.duration("COALITION_FANOUT_WEBHOOK_TIMEOUT", default: .seconds(10))
        retry = RetrySchedule(
            initial: try environment.duration("COALITION_FANOUT_RETRY_INITIAL", default: .seconds(5)),
            maximum: try environment.duration("COALITION_FANOUT_RETRY_MAX", default: .seconds(3600)),
            giveUpAfter: try environment.duration("COALITION_FANOUT_GIVE_UP_AFTER", default: .seconds(24 * 3600)))
        disableAfterFailures = try environment.int("COALITION_FANOUT_DISABLE_AFTER_FAILURES", default: 20, range: 1...1_000_000)
        perRecipientHourlyLimit = try environment.int("COALITION_FANOUT_RATE_LIMIT_PER_HOUR", default: 30, range: 0...1_000_000)
        concurrency = try environment.int("COALITION_FANOUT_CONCURRENCY", default: 256, range: 1...4096)
        lease = try environment.duration("COALITION_FANOUT_LEASE", default: .seconds(30))
        pollInterval = try environment.duration("COALITION_FANOUT_POLL_INTERVAL", default: .milliseconds(250))
        maximumIncidentAge = try environment.duration("COALITION_FANOUT_MAX_INCIDENT_AGE", default: .seconds(72 * 3600))
        secretOverlap = try environment.duration("COALITION_FANOUT_SECRET_OVERLAP", default: .seconds(24 * 3600))
        if let url = environment.string("COALITION_SMTP_URL"), !url.isEmpty {
            guard url.hasPrefix("smtp://") || url.hasPrefix("smtps://") else {
                throw ConfigurationError(variable: "COALITION_SMTP_URL", message: "must start with smtp:// or smtps://")
            }
            let securityText = environment.string("COALITION_SMTP_SECURITY", default: "required")
            guard let security = SMTPClient.Security(rawValue: securityText) else {
                throw ConfigurationError(variable: "COALITION_SMTP_SECURITY", message: "must be required, optional or none")
            }
            smtp = SMTPClient.Settings(
                url: url, security: security, username: environment.string("COALITION_SMTP_USERNAME"),
                password: environment.string("COALITION_SMTP_PASSWORD"))
        }
        mailFrom = environment.string("COALITION_SMTP_FROM", default: "alerts@coalition.invalid")
        if let url = environment.string("COALITION_SMS_BASE_URL"), !url.isEmpty {
            sms = SMSSender.Settings(
                baseURL: url, accountSID: try environment.required("COALITION_SMS_ACCOUNT_SID"),
                authToken: try environment.required("COALITION_SMS_AUTH_TOKEN"), from: try environment.required("COALITION_SMS_FROM"))
        }
        publicURL = environment.string("COALITION_PUBLIC_URL")
        capSender = environment.string("COALITION_CAP_SENDER", default: "alerts@coalition.invalid")
        guard !capSender.contains(where: { $0 == " " || $0 == "," || $0 == "<" || $0 == "&" }) else {
            throw ConfigurationError(variable: "COALITION_CAP_SENDER", message: "must not contain spaces, commas, < or &")
        }
        policy = DeliveryPolicy(
            groupWait: try environment.duration("COALITION_FANOUT_GROUP_WAIT", default: .seconds(30)),
            groupInterval: try environment.duration("COALITION_FANOUT_GROUP_INTERVAL", default: .seconds(300)),
            urgentSeverity: try environment.int("COALITION_FANOUT_URGENT_SEVERITY", default: 4, range: 1...6),
            digestHour: try environment.int("COALITION_FANOUT_DIGEST_HOUR", default: 8, range: 0...23))
    }
}
