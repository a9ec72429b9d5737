//! The target contract in code: every verb conform runs, every `jlist` field it reads and every status
//! word it interprets. `docs/target-contract.md` lists exactly these (a test compares them), and an
//! adapter file ([`super::adapter`]) renames them for a manager that differs from PM2.

/// A command conform runs on a target (its first argument; PM2's name unless an adapter renames it).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    /// `--version`: the label of the report.
    Version,
    /// `start <script> [flags]` or `start ecosystem.json [--only NAME]`.
    Start,
    /// `stop <name|all|ecosystem.json>`.
    Stop,
    /// `restart <name|all|ecosystem.json>`.
    Restart,
    /// `reload <name|all|ecosystem.json> [--only NAME] [args]`.
    Reload,
    /// `delete <name|all|ecosystem.json>`.
    Delete,
    /// `scale <name> <N|+N|-N>`.
    Scale,
    /// `jlist`: the process table as JSON.
    Jlist,
    /// `logs <name> --nostream --lines N`.
    Logs,
    /// `kill`: stop every app and the daemon (each scenario's clean-up).
    Kill,
}

impl Verb {
    /// Every verb, in the order of the contract's table.
    pub const ALL: [Verb; 10] = [
        Verb::Version,
        Verb::Start,
        Verb::Stop,
        Verb::Restart,
        Verb::Reload,
        Verb::Delete,
        Verb::Scale,
        Verb::Jlist,
        Verb::Logs,
        Verb::Kill,
    ];

    /// PM2's name for it (the first argument conform passes).
    pub const fn pm2(self) -> &'static str {
        match self {
            Verb::Version => "--version",
            Verb::Start => "start",
            Verb::Stop => "stop",
            Verb::Restart => "restart",
            Verb::Reload => "reload",
            Verb::Delete => "delete",
            Verb::Scale => "scale",
            Verb::Jlist => "jlist",
            Verb::Logs => "logs",
            Verb::Kill => "kill",
        }
    }

    /// The key naming it in an adapter file (`version` for `--version`).
    pub fn key(self) -> &'static str {
        self.pm2().trim_start_matches('-')
    }

    /// The verb an adapter key names.
    pub fn from_key(key: &str) -> Option<Verb> {
        Verb::ALL.into_iter().find(|v| v.key() == key)
    }

    /// Whether a target may lack it: scenarios using it are then `unsupported`. Without `start`,
    /// `jlist` or `kill` nothing can run or be cleaned up.
    pub fn optional(self) -> bool {
        !matches!(self, Verb::Start | Verb::Jlist | Verb::Kill | Verb::Version)
    }
}

/// A `jlist` field conform reads, by its PM2 path (`pm2_env.status`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum JlistField {
    /// `name` (else `pm2_env.name`): the app a process belongs to.
    Name,
    /// `pm_id`: the manager's id of the process.
    PmId,
    /// `pid`: the OS pid (0 while stopped).
    Pid,
    /// `pm2_env.status`: a status word.
    Status,
    /// `pm2_env.exec_mode`: `cluster_mode` or `fork_mode`.
    ExecMode,
    /// `pm2_env.restart_time`: restarts since start.
    RestartTime,
    /// `pm2_env`: the process's environment as the manager keeps it (checks look for the instance
    /// variable in it).
    Env,
    /// `pm2_env.<instance_var>`: the instance value (`pm2_env.NODE_APP_INSTANCE`, or the app's
    /// `instance_var`).
    Instance,
}

impl JlistField {
    /// Every field, in the order of the contract's table.
    pub const ALL: [JlistField; 8] = [
        JlistField::Name,
        JlistField::PmId,
        JlistField::Pid,
        JlistField::Status,
        JlistField::ExecMode,
        JlistField::RestartTime,
        JlistField::Env,
        JlistField::Instance,
    ];

    /// PM2's path, dot-separated (`<instance_var>` stands for the variable's name).
    pub const fn pm2_path(self) -> &'static str {
        match self {
            JlistField::Name => "name",
            JlistField::PmId => "pm_id",
            JlistField::Pid => "pid",
            JlistField::Status => "pm2_env.status",
            JlistField::ExecMode => "pm2_env.exec_mode",
            JlistField::RestartTime => "pm2_env.restart_time",
            JlistField::Env => "pm2_env",
            JlistField::Instance => "pm2_env.<instance_var>",
        }
    }

    /// The key naming it in an adapter file's `[jlist]` table.
    pub const fn key(self) -> &'static str {
        match self {
            JlistField::Name => "name",
            JlistField::PmId => "pm_id",
            JlistField::Pid => "pid",
            JlistField::Status => "status",
            JlistField::ExecMode => "exec_mode",
            JlistField::RestartTime => "restart_time",
            JlistField::Env => "env",
            JlistField::Instance => "instance",
        }
    }

    /// The field an adapter key names.
    pub fn from_key(key: &str) -> Option<JlistField> {
        JlistField::ALL.into_iter().find(|f| f.key() == key)
    }
}

/// The status words conform interprets (PM2's): `online` counts as up; `stopped` and `errored` as
/// down; any other word (`launching`, `stopping`, `waiting restart`, …) as alive but not online.
pub const STATUS_WORDS: [&str; 3] = ["online", "stopped", "errored"];

/// The `exec_mode` words conform reads.
pub const EXEC_MODES: [&str; 2] = ["cluster_mode", "fork_mode"];
