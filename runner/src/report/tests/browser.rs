//! The HTML report rendered by a real browser (headless Chromium, when installed): every chart is laid
//! out with a non-zero size and shapes, and the page logs nothing to the console.
//! Skipped (with a message) when no `chromium` is on PATH.

use super::fixture;
use crate::report::render_html;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn chromium() -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in ["chromium", "chromium-browser"] {
            let p = dir.join(name);
            if p.is_file() {
                return Some(p);
            }
        }
    }
    None
}

/// Runs `chromium --headless --dump-dom file` in its own process group, with a private profile and
/// home under `work`; returns (stdout, stderr). The whole group is killed by pgid afterwards.
fn dump_dom(bin: &Path, work: &Path, file: &Path) -> (String, String) {
    let out = work.join("out.html");
    let err = work.join("err.txt");
    let mut child = Command::new(bin)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-crash-reporter",
            "--disable-breakpad",
            "--enable-logging=stderr",
            "--v=0",
        ])
        .arg(format!(
            "--user-data-dir={}",
            work.join("profile").display()
        ))
        .arg("--dump-dom")
        .arg(format!("file://{}", file.display()))
        .env("HOME", work)
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&out).unwrap())
        .stderr(std::fs::File::create(&err).unwrap())
        .process_group(0)
        .spawn()
        .unwrap();
    let pgid = nix::unistd::Pid::from_raw(child.id() as i32);
    let deadline = Instant::now() + Duration::from_secs(90);
    let finished = loop {
        if child.try_wait().unwrap().is_some() {
            break true;
        }
        if Instant::now() > deadline {
            break false;
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
    let _ = child.wait();
    kill_strays(work);
    assert!(finished, "chromium did not finish within 90 s");
    (
        std::fs::read_to_string(out).unwrap_or_default(),
        std::fs::read_to_string(err).unwrap_or_default(),
    )
}

/// Kills, by pid, any process still naming our private profile directory (a helper that left the group).
fn kill_strays(work: &Path) {
    let needle = work.display().to_string();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return;
    };
    for entry in dir.flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let cmdline = std::fs::read(entry.path().join("cmdline")).unwrap_or_default();
        if String::from_utf8_lossy(&cmdline).contains(&needle) && pid != std::process::id() as i32 {
            let _ = nix::sys::signal::kill(
                nix::unistd::Pid::from_raw(pid),
                nix::sys::signal::Signal::SIGKILL,
            );
        }
    }
}

/// Console lines Chromium logs for the page (`CONSOLE` / `Uncaught`), ignoring its own noise.
fn console_lines(stderr: &str) -> Vec<&str> {
    stderr
        .lines()
        .filter(|l| l.contains("CONSOLE") || l.contains("Uncaught"))
        .collect()
}

#[test]
fn chromium_draws_every_chart_without_console_messages() {
    let Some(bin) = chromium() else {
        assert!(
            std::env::var_os("CI").is_none(),
            "chromium is not on PATH but CI is set: .ci/run must install it"
        );
        eprintln!("skipped: chromium not on PATH");
        return;
    };
    let work = tempfile::tempdir().unwrap();
    let html = render_html(&fixture::report("refpm"));

    // the page as written: nothing on the console
    let plain = work.path().join("index.html");
    std::fs::write(&plain, &html).unwrap();
    let (dom, stderr) = dump_dom(&bin, work.path(), &plain);
    assert!(
        dom.contains("chart-reload"),
        "no DOM dumped; stderr: {stderr}"
    );
    assert!(
        console_lines(&stderr).is_empty(),
        "{:?}",
        console_lines(&stderr)
    );

    // a copy with a probe that measures each chart once laid out
    let probe = r#"<pre id="probe"></pre><script>
const out = [];
for (const svg of document.querySelectorAll('svg.chart')) {
  const b = svg.getBoundingClientRect();
  const shapes = svg.querySelectorAll('rect,path,line').length;
  out.push(svg.classList[1] + ':' + Math.round(b.width) + ':' + Math.round(b.height) + ':' + shapes);
}
document.getElementById('probe').textContent = out.join(' ');
</script>"#;
    let probed = work.path().join("probed.html");
    std::fs::write(&probed, html.replace("</body>", &format!("{probe}</body>"))).unwrap();
    let (dom, stderr) = dump_dom(&bin, work.path(), &probed);
    assert!(
        console_lines(&stderr).is_empty(),
        "{:?}",
        console_lines(&stderr)
    );
    let start = dom.find("<pre id=\"probe\">").expect("probe element") + "<pre id=\"probe\">".len();
    let text = &dom[start..start + dom[start..].find("</pre>").unwrap()];
    let charts: Vec<Vec<&str>> = text.split(' ').map(|c| c.split(':').collect()).collect();
    let kinds: Vec<&str> = charts.iter().map(|c| c[0]).collect();
    for kind in ["chart-workers", "chart-reload", "chart-shutdown"] {
        assert!(kinds.contains(&kind), "{kind} not drawn: {text}");
    }
    for c in &charts {
        let (w, h, shapes): (u32, u32, u32) = (
            c[1].parse().unwrap(),
            c[2].parse().unwrap(),
            c[3].parse().unwrap(),
        );
        assert!(w > 100 && h > 50 && shapes > 3, "chart not drawn: {c:?}");
    }
}
