import ArgumentParser

/// `coalition`: the operator's command line.
@main
struct CoalitionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "coalition",
        abstract: "Operate a Coalition deployment.",
        discussion: "Settings come from COALITION_* environment variables (see the README); `source .run/env` after `make infra-up`.",
        subcommands: [MigrateCommand.self, TopicsCommand.self, TailCommand.self, StatusCommand.self, SourcesCommand.self, ImportCommand.self, AreasCommand.self,
                      StakeholdersCommand.self, SubscriptionsCommand.self, MeetingsCommand.self, MetricsCommand.self])
}
