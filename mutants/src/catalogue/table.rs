//! The table of mutants: for each, what it breaks, how, and where it must be caught.

use super::{Catch, Mechanism, Mutant, Spec};
use Mechanism::{AppOptions, Args, Jlist, Probe, Signals};
use Mutant::*;

const fn c(scenario: &'static str, checks: &'static [&'static str]) -> Catch {
    Catch { scenario, checks }
}

/// Every mutant, in the README's order.
pub const CATALOGUE: &[Spec] = &[
    Spec {
        mutant: RestartNoop,
        name: "restart-noop",
        breaks: "restart replaces the processes (it does nothing and exits 0)",
        mechanism: Args,
        catches: &[c("env/kept/restart", &["all-pids-replaced"])],
    },
    Spec {
        mutant: RestartOne,
        name: "restart-one",
        breaks: "restart replaces every process (only the lowest pm_id is restarted)",
        mechanism: Args,
        catches: &[c("env/kept/restart", &["all-pids-replaced"])],
    },
    Spec {
        mutant: ReloadNoop,
        name: "reload-noop",
        breaks: "reload replaces the workers (it does nothing and exits 0)",
        mechanism: Args,
        catches: &[c("reload/ecosystem/only-app", &["all-pids-replaced"])],
    },
    Spec {
        mutant: ReloadNoopFakePids,
        name: "reload-noop-fake-pids",
        breaks: "reload replaces the workers (it does nothing; jlist shows new pids anyway)",
        mechanism: Jlist,
        catches: &[c("reload/ecosystem/only-app", &["all-pids-replaced"])],
    },
    Spec {
        mutant: ReloadAllAtOnce,
        name: "reload-all-at-once",
        breaks: "reload keeps at least one process running (every worker is stopped at once)",
        mechanism: Args,
        catches: &[c("reload/under-load/http-2", &["at-least-one-listening"])],
    },
    Spec {
        mutant: ReloadStopStart,
        name: "reload-stop-start",
        breaks: "0-second-downtime reload: no request is lost (every worker is stopped, then started)",
        mechanism: Args,
        catches: &[c("reload/under-load/http-2", &["failed-requests"])],
    },
    Spec {
        mutant: ReloadTwoAtATime,
        name: "reload-two-at-a-time",
        breaks: "reload replaces the processes one by one (two at a time)",
        mechanism: Args,
        catches: &[c("reload/one-by-one/wait-ready-4", &["one-at-a-time"])],
    },
    Spec {
        mutant: ReloadStopsOldFirst,
        name: "reload-stops-old-first",
        breaks: "an old worker is stopped only once its replacement is ready (stopped first)",
        mechanism: Args,
        catches: &[c(
            "reload/wait-ready/ready-first",
            &["replaced-after-ready"],
        )],
    },
    Spec {
        mutant: ReloadRenumbers,
        name: "reload-renumbers",
        breaks: "NODE_APP_INSTANCE is kept across a reload (fresh workers get new values)",
        mechanism: Args,
        catches: &[c("env/kept/reload", &["instance-values-kept"])],
    },
    Spec {
        mutant: ReloadHidesFailure,
        name: "reload-hides-failure",
        breaks: "a reload that could not replace the workers reports failure (it exits 0)",
        mechanism: Args,
        catches: &[c("reload/broken-build/crash-at-boot", &["exit-code"])],
    },
    Spec {
        mutant: OnlyIgnored,
        name: "only-ignored",
        breaks: "reload ecosystem --only app leaves the other apps alone (--only dropped)",
        mechanism: Args,
        catches: &[c("reload/ecosystem/only-app", &["pids-unchanged"])],
    },
    Spec {
        mutant: WaitReadyIgnored,
        name: "wait-ready-ignored",
        breaks: "wait_ready: a process is online, and replaces an old one, only after it sent ready",
        mechanism: Args,
        catches: &[c(
            "graceful/start/online-after-ready",
            &["online-after-ready"],
        )],
    },
    Spec {
        mutant: ListenTimeoutZero,
        name: "listen-timeout-zero",
        breaks: "a reload waits listen_timeout for a replacement that never sends ready (1 ms)",
        mechanism: Args,
        catches: &[c("reload/wait-ready/never-ready", &["step-duration"])],
    },
    Spec {
        mutant: KillTimeoutIgnored,
        name: "kill-timeout-ignored",
        breaks: "SIGKILL comes no earlier than kill_timeout (the default 1600 ms is used)",
        mechanism: Args,
        catches: &[c("graceful/stop/sigkill-after-kill-timeout", &["signals"])],
    },
    Spec {
        mutant: NoDrain,
        name: "no-drain",
        breaks: "a stopped worker may finish its in-flight requests (SIGKILL 1 ms after SIGINT)",
        mechanism: Args,
        // only the stop scenario: during a reload refpm drains the old worker (cluster disconnect)
        // before its SIGINT, so on a quiet machine nothing is in flight when the SIGKILL comes and
        // reload/under-load/graceful-2 passes — a catch by chance, not a deterministic one
        catches: &[c(
            "graceful/stop/in-flight-completes",
            &["in-flight-completed"],
        )],
    },
    Spec {
        mutant: ShutdownMessageIgnored,
        name: "shutdown-message-ignored",
        breaks: "shutdown_with_message: stop sends the 'shutdown' message, not SIGINT",
        mechanism: Args,
        catches: &[c("graceful/stop/shutdown-with-message", &["signals"])],
    },
    Spec {
        mutant: SigtermAfterSigint,
        name: "sigterm-after-sigint",
        breaks: "after SIGINT nothing but SIGKILL at kill_timeout (SIGTERM follows 50 ms later)",
        mechanism: Signals,
        catches: &[c("graceful/stop/sigkill-after-kill-timeout", &["signals"])],
    },
    Spec {
        mutant: SigkillOnlyStop,
        name: "sigkill-only-stop",
        breaks: "stop sends SIGINT first (the workers get SIGKILL only)",
        mechanism: Signals,
        catches: &[c("graceful/stop/in-flight-completes", &["signals"])],
    },
    Spec {
        mutant: InstanceVarIgnored,
        name: "instance-var-ignored",
        breaks: "instance_var renames NODE_APP_INSTANCE (the key is dropped)",
        mechanism: Args,
        catches: &[c("env/instance-var/renamed", &["var-absent"])],
    },
    Spec {
        mutant: ScaleOffByOne,
        name: "scale-off-by-one",
        breaks: "scale N runs N processes (N + 1)",
        mechanism: Args,
        catches: &[c("instances/scale/down", &["instance-count"])],
    },
    Spec {
        mutant: ScaleDownDropsInstanceZero,
        name: "scale-down-drops-instance-zero",
        breaks: "an instance 0 exists at every moment (scale down deletes it first)",
        mechanism: Args,
        catches: &[c(
            "env/instance-zero/scale-down",
            &["exactly-one-instance-zero"],
        )],
    },
    Spec {
        mutant: NegativeAsFork,
        name: "negative-as-fork",
        breaks: "-i -N runs CPUs − N cluster workers (one fork process)",
        mechanism: Args,
        catches: &[c("instances/cli/minus-2", &["exec-mode"])],
    },
    Spec {
        mutant: MaxPlusOne,
        name: "max-plus-one",
        breaks: "max runs one process per CPU (one more)",
        mechanism: Args,
        catches: &[c("instances/cli/max", &["instance-count"])],
    },
    Spec {
        mutant: JlistStatusLies,
        name: "jlist-status-lies",
        breaks: "jlist tells the truth about status (stopped and errored shown online)",
        mechanism: Jlist,
        catches: &[c("faults/ignore-sigint/cluster-2", &["status"])],
    },
    Spec {
        mutant: JlistInstanceLies,
        name: "jlist-instance-lies",
        breaks: "jlist tells the truth about instance values (each shown one higher)",
        mechanism: Jlist,
        catches: &[c("env/node-app-instance/unique", &["instance-values"])],
    },
    Spec {
        mutant: JlistRestartsLie,
        name: "jlist-restarts-lie",
        breaks: "jlist counts restarts (always 0)",
        mechanism: Jlist,
        catches: &[c("faults/crash-under-load/http-4", &["restarts"])],
    },
    Spec {
        mutant: NoAutorestart,
        name: "no-autorestart",
        breaks: "a worker that crashes is restarted (--no-autorestart added)",
        mechanism: Args,
        catches: &[c("faults/crash-under-load/http-4", &["wait-listening"])],
    },
    Spec {
        mutant: CrashLoopTooLong,
        name: "crash-loop-too-long",
        breaks: "a crash loop ends errored after a bounded number of starts (40 restarts)",
        mechanism: Args,
        catches: &[c("faults/crash-loop/errored", &["start-rate"])],
    },
    Spec {
        mutant: DaemonKillOrphans,
        name: "daemon-kill-orphans",
        breaks: "no app process outlives the daemon (an interpreter shim clears PDEATHSIG)",
        mechanism: AppOptions,
        catches: &[c("faults/daemon-sigkill/fork", &["no-orphans"])],
    },
    Spec {
        mutant: StarveWorkers,
        name: "starve-workers",
        breaks: "the load balancer reaches every instance (all but instance 0 frozen once listening)",
        mechanism: Signals,
        catches: &[
            c(
                "distribution/tcp/every-instance",
                &["every-instance-serves"],
            ),
            c("distribution/http/fairness", &["fairness"]),
            c("distribution/stateless/counter", &["per-instance-state"]),
        ],
    },
    Spec {
        mutant: LogsEmpty,
        name: "logs-empty",
        breaks: "logs shows the app's output (prints nothing)",
        mechanism: Args,
        catches: &[c("faults/port-taken/cluster-2", &["logs-contain"])],
    },
    Spec {
        mutant: ConfigJsAsScript,
        name: "config-js-as-script",
        breaks: "an ecosystem.config.js (module.exports) starts its apps (it is run as a plain script)",
        mechanism: Args,
        catches: &[c("instances/ecosystem/config-js", &["wait-online"])],
    },
    Spec {
        mutant: EcosystemReloadFirstApp,
        name: "ecosystem-reload-first-app",
        breaks: "reload ecosystem.config.js reloads every app in it (only the first one)",
        mechanism: Args,
        catches: &[c("reload/ecosystem/all-apps", &["all-pids-replaced"])],
    },
    Spec {
        mutant: ReloadTimeoutGivesUp,
        name: "reload-timeout-gives-up",
        breaks: "a reload that times out falls back to a classic restart (it gives up: old workers kept, exit 1)",
        mechanism: Probe,
        catches: &[c(
            "reload/timeout/restart-fallback",
            &["exit-code", "all-pids-replaced"],
        )],
    },
    Spec {
        mutant: ReloadKillsInFlight,
        name: "reload-kills-in-flight",
        breaks: "a reload lets the old worker answer its in-flight requests (SIGKILL once replaced)",
        mechanism: Signals,
        catches: &[c("reload/in-flight/graceful-2", &["in-flight-completed"])],
    },
];
