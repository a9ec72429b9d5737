//! Command-line syntax (clap), mirroring PM2's commands, aliases and flags.

use clap::{Args, Parser, Subcommand};

/// `refpm` — a PM2-compatible process manager.
#[derive(Debug, Parser)]
#[command(
    name = "refpm",
    disable_version_flag = true,
    about = "A PM2-compatible process supervisor"
)]
pub struct Cli {
    /// Print the version.
    #[arg(short = 'v', short_alias = 'V', long = "version")]
    pub version: bool,
    /// Hide all output except jlist's JSON.
    #[arg(short = 's', long = "silent", global = true)]
    pub silent: bool,
    /// Accepted for PM2 compatibility (output is never coloured).
    #[arg(long = "no-color", global = true)]
    pub no_color: bool,
    /// The command.
    #[command(subcommand)]
    pub cmd: Option<Cmd>,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Cmd {
    /// Start a script or an ecosystem file (default: ecosystem.config.js).
    Start(Box<StartArgs>),
    /// Stop processes (name, id, all, script or ecosystem file).
    Stop(OpArgs),
    /// Stop then start processes.
    Restart(OpArgs),
    /// Zero-downtime reload (cluster mode); restart for fork mode.
    Reload(OpArgs),
    /// Stop and remove processes.
    #[command(visible_alias = "del")]
    Delete(OpArgs),
    /// Scale an app to N instances, or by +N.
    Scale {
        /// App name.
        name: String,
        /// `N` or `+N`.
        number: String,
    },
    /// The process list as JSON.
    Jlist,
    /// The process table.
    #[command(visible_aliases = ["ls", "l", "ps", "status"])]
    List,
    /// Details of a process.
    #[command(visible_aliases = ["desc", "info", "show"])]
    Describe {
        /// Name or id.
        target: String,
    },
    /// Pids of all processes, or of one app.
    Pid {
        /// App name.
        name: Option<String>,
    },
    /// Checks that the daemon answers (starts it if needed).
    Ping,
    /// Shows (and follows) the logs.
    Logs(LogsArgs),
    /// Stops every process and the daemon.
    Kill,
    /// Runs the daemon in the foreground (internal).
    #[command(hide = true)]
    Daemon,
}

/// `start` flags (PM2 names).
#[derive(Debug, Args)]
pub struct StartArgs {
    /// Scripts or ecosystem files.
    pub targets: Vec<String>,
    /// Arguments passed to the script (after `--`).
    #[arg(last = true)]
    pub script_args: Vec<String>,
    /// Number of instances: N, max, 0 (all CPUs), -N (CPUs minus N).
    #[arg(short = 'i', long = "instances", allow_hyphen_values = true)]
    pub instances: Option<String>,
    /// App name.
    #[arg(short = 'n', long = "name")]
    pub name: Option<String>,
    /// Wait for process.send('ready').
    #[arg(long = "wait-ready")]
    pub wait_ready: bool,
    /// ms to wait for listening/ready.
    #[arg(long = "listen-timeout", allow_hyphen_values = true)]
    pub listen_timeout: Option<String>,
    /// ms between SIGINT and SIGKILL.
    #[arg(short = 'k', long = "kill-timeout", allow_hyphen_values = true)]
    pub kill_timeout: Option<String>,
    /// Stop with a 'shutdown' message instead of SIGINT.
    #[arg(long = "shutdown-with-message")]
    pub shutdown_with_message: bool,
    /// Do not restart on exit.
    #[arg(long = "no-autorestart")]
    pub no_autorestart: bool,
    /// Unstable restarts before errored.
    #[arg(long = "max-restarts", allow_hyphen_values = true)]
    pub max_restarts: Option<String>,
    /// Fixed delay before an autorestart (ms).
    #[arg(long = "restart-delay", allow_hyphen_values = true)]
    pub restart_delay: Option<String>,
    /// Exponential backoff restart delay (ms).
    #[arg(long = "exp-backoff-restart-delay", allow_hyphen_values = true)]
    pub exp_backoff_restart_delay: Option<String>,
    /// env_<name> of an ecosystem file.
    #[arg(long = "env")]
    pub env: Option<String>,
    /// Only these apps of an ecosystem file (comma separated).
    #[arg(long = "only")]
    pub only: Option<String>,
    /// Start even if the script is already running.
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// Load-balancing policy for cluster mode: rr or shared.
    #[arg(long = "lb-policy")]
    pub lb_policy: Option<String>,
    /// Do not inject refpm's drain preload (kept-alive connections closed with `Connection: close`).
    #[arg(long = "no-drain")]
    pub no_drain: bool,
    /// Node arguments.
    #[arg(long = "node-args", allow_hyphen_values = true)]
    pub node_args: Option<String>,
    /// Interpreter (`none` runs the script directly).
    #[arg(long = "interpreter")]
    pub interpreter: Option<String>,
    /// Working directory of the app.
    #[arg(long = "cwd")]
    pub cwd: Option<String>,
    /// When restarting an existing app by name: use this shell's environment.
    #[arg(short = 'a', long = "update-env")]
    pub update_env: bool,
}

/// Flags of stop/restart/reload/delete.
#[derive(Debug, Args)]
pub struct OpArgs {
    /// name, id, all, script path or ecosystem file.
    #[arg(required = true)]
    pub targets: Vec<String>,
    /// Concurrency over ids.
    #[arg(long = "parallel")]
    pub parallel: Option<String>,
    /// env_<name> of an ecosystem file.
    #[arg(long = "env")]
    pub env: Option<String>,
    /// Only these apps of an ecosystem file.
    #[arg(long = "only")]
    pub only: Option<String>,
    /// Reload: bypass the lock (accepted; refpm serialises per id).
    #[arg(short = 'f', long = "force")]
    pub force: bool,
    /// restart/reload: use this shell's environment instead of the one saved at start.
    #[arg(short = 'a', long = "update-env")]
    pub update_env: bool,
}

/// `logs` flags.
#[derive(Debug, Args)]
pub struct LogsArgs {
    /// id, name or all.
    pub target: Option<String>,
    /// Print the last lines and exit.
    #[arg(long = "nostream")]
    pub nostream: bool,
    /// Lines to show.
    #[arg(long = "lines", default_value_t = 15)]
    pub lines: usize,
    /// Without prefixes.
    #[arg(long = "raw")]
    pub raw: bool,
    /// Only out logs.
    #[arg(long = "out")]
    pub out: bool,
    /// Only error logs.
    #[arg(long = "err")]
    pub err: bool,
}
