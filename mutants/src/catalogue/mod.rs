//! The mutants: each breaks exactly one promise of the guide (or of the kit's policy) and names the
//! scenarios, and the check in each, that must catch it.

use serde::Serialize;

mod table;

pub use table::CATALOGUE;

/// Which broken behaviour a wrapper applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mutant {
    /// `restart` does nothing.
    RestartNoop,
    /// `restart <app>` restarts only the lowest pm_id.
    RestartOne,
    /// `reload` does nothing and exits 0.
    ReloadNoop,
    /// `reload` does nothing, and `jlist` shows new pids after it.
    ReloadNoopFakePids,
    /// `reload` is `restart --parallel 64`: every worker stopped at once.
    ReloadAllAtOnce,
    /// `reload` is `stop` then `restart`: nothing serves in between (the port is closed).
    ReloadStopStart,
    /// `reload --parallel 2`: two workers replaced at a time.
    ReloadTwoAtATime,
    /// `reload` is a sequential `restart`: each old worker stopped before its replacement exists.
    ReloadStopsOldFirst,
    /// `reload` starts fresh workers, then deletes the old ones: instance values not kept.
    ReloadRenumbers,
    /// A failed `reload` exits 0.
    ReloadHidesFailure,
    /// `reload … --only X` acts on every app.
    OnlyIgnored,
    /// `wait_ready` dropped.
    WaitReadyIgnored,
    /// `listen_timeout` treated as 1 ms.
    ListenTimeoutZero,
    /// `kill_timeout` dropped (the default 1600 ms applies).
    KillTimeoutIgnored,
    /// `kill_timeout` forced to 1 ms: no drain.
    NoDrain,
    /// `shutdown_with_message` dropped.
    ShutdownMessageIgnored,
    /// SIGINT, then SIGTERM 50 ms later, on stop.
    SigtermAfterSigint,
    /// SIGKILL only, on stop.
    SigkillOnlyStop,
    /// `instance_var` dropped from the ecosystem file.
    InstanceVarIgnored,
    /// `scale` one process too many.
    ScaleOffByOne,
    /// `scale` down deletes instance 0 first.
    ScaleDownDropsInstanceZero,
    /// `-i -N` runs one fork-mode process.
    NegativeAsFork,
    /// `max` (and `0`) means one process more than the CPUs.
    MaxPlusOne,
    /// `jlist` says `online` for stopped and errored processes.
    JlistStatusLies,
    /// `jlist` shows instance values one higher than the processes have.
    JlistInstanceLies,
    /// `jlist` says no process was ever restarted.
    JlistRestartsLie,
    /// `--no-autorestart` added to every start.
    NoAutorestart,
    /// A crash loop runs 40 restarts before `errored`.
    CrashLoopTooLong,
    /// Apps started through an interpreter shim that survives the daemon's death.
    DaemonKillOrphans,
    /// Once every worker listens, all but instance 0 are frozen (SIGSTOP).
    StarveWorkers,
    /// `logs` prints nothing.
    LogsEmpty,
    /// `start x.config.js` runs the file as a plain script (PM2 does that with `ecosystem.js`).
    ConfigJsAsScript,
    /// `reload <ecosystem file>` without `--only` reloads the file's first app only.
    EcosystemReloadFirstApp,
    /// A reload whose workers never listen gives up after listen_timeout: no fallback to a restart.
    ReloadTimeoutGivesUp,
    /// `reload`: each old worker is SIGKILLed once its replacement shows in `jlist` (no drain).
    ReloadKillsInFlight,
}

/// How a mutant does its damage (the README's "mechanism" column).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Mechanism {
    /// Rewrites the arguments (or the ecosystem file) it forwards to refpm.
    Args,
    /// Rewrites what refpm's `jlist` printed.
    Jlist,
    /// Signals the worker pids it reads from `jlist` around the forwarded command.
    Signals,
    /// Starts the app with different options (an interpreter shim), refpm unchanged.
    AppOptions,
    /// Decides what to forward from what a client sees (whether anything answers on the app's port).
    Probe,
}

/// A scenario that must catch a mutant, and the checks that must fail in it (each names the broken
/// promise; other checks may fail too and are shown in the matrix).
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Catch {
    /// Scenario id.
    pub scenario: &'static str,
    /// Check names (or, for a step that aborts the scenario, the step's name) that must fail.
    pub checks: &'static [&'static str],
}

/// One mutant's entry.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Spec {
    /// The behaviour.
    pub mutant: Mutant,
    /// Stable kebab-case name (the wrapper's file name).
    pub name: &'static str,
    /// The promise it breaks, in one line.
    pub breaks: &'static str,
    /// How it breaks it.
    pub mechanism: Mechanism,
    /// Where it must be caught.
    pub catches: &'static [Catch],
}

/// The entry named `name`.
pub fn find(name: &str) -> Option<&'static Spec> {
    CATALOGUE.iter().find(|s| s.name == name)
}

/// Check kinds no mutant can be the failing check for, with the reason (the README's list; the
/// matrix test fails when a check kind is neither caught nor listed here).
pub const UNCATCHABLE: &[(&str, &str)] = &[];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn names_are_unique_and_kebab_case() {
        let names: BTreeSet<&str> = CATALOGUE.iter().map(|s| s.name).collect();
        assert_eq!(names.len(), CATALOGUE.len());
        for n in names {
            assert!(n.chars().all(|c| c.is_ascii_lowercase() || c == '-'), "{n}");
            assert_eq!(find(n).map(|s| s.name), Some(n));
        }
    }

    #[test]
    fn at_least_twenty_and_every_one_is_caught_somewhere() {
        assert!(CATALOGUE.len() >= 20);
        for s in CATALOGUE {
            assert!(!s.catches.is_empty(), "{}", s.name);
            assert!(s.catches.iter().all(|c| !c.checks.is_empty()), "{}", s.name);
        }
    }

    #[test]
    fn every_suite_is_covered() {
        let suites: BTreeSet<&str> = CATALOGUE
            .iter()
            .flat_map(|s| s.catches.iter())
            .filter_map(|c| c.scenario.split('/').next())
            .collect();
        for s in [
            "instances",
            "distribution",
            "reload",
            "graceful",
            "env",
            "faults",
        ] {
            assert!(suites.contains(s), "no mutant for suite {s}");
        }
    }
}
