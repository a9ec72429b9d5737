//! How the app is given to the target: command-line flags for `start`, or an ecosystem file
//! (`ecosystem.json`, or the guide's `ecosystem.config.js` with `module.exports`).

use super::ctx::{Abort, Ctx};
use crate::suite::{EcosystemFormat, Step};

impl Ctx {
    /// `<app.js> --name <name>` plus the flags of the app config (the arguments of `start`).
    pub(super) fn start_args(&self) -> Vec<String> {
        let a = &self.sc.app;
        let mut v = vec![
            self.app_script().display().to_string(),
            "--name".into(),
            a.name.clone(),
        ];
        if let Some(i) = &a.instances {
            v.push("-i".into());
            v.push(i.cli());
        }
        if let Some(k) = a.kill_timeout {
            v.extend(["--kill-timeout".to_string(), k.to_string()]);
        }
        if let Some(l) = a.listen_timeout {
            v.extend(["--listen-timeout".to_string(), l.to_string()]);
        }
        if a.wait_ready {
            v.push("--wait-ready".into());
        }
        if a.shutdown_with_message {
            v.push("--shutdown-with-message".into());
        }
        v
    }

    /// The ecosystem file the scenario's `start-ecosystem` step writes (what `on = "ecosystem"` names).
    pub(super) fn ecosystem_file(&self) -> &'static str {
        self.sc
            .steps
            .iter()
            .find_map(|s| match s {
                Step::StartEcosystem { format, .. } => Some(format.file_name()),
                _ => None,
            })
            .unwrap_or(EcosystemFormat::Json.file_name())
    }

    /// Writes the ecosystem file (`format`) for the app and the extra apps.
    pub(super) fn write_ecosystem(&self, format: EcosystemFormat) -> Result<(), Abort> {
        let a = &self.sc.app;
        let mut env = serde_json::Map::new();
        env.insert("PORT".into(), self.port.to_string().into());
        env.insert(
            "CONFORM_RECORD".into(),
            self.record.display().to_string().into(),
        );
        if let Some(v) = &a.instance_var {
            env.insert("CONFORM_INSTANCE_VAR".into(), v.clone().into());
        }
        for (k, v) in &a.env {
            env.insert(k.clone(), v.clone().into());
        }
        let mut app = serde_json::json!({
            "name": a.name,
            "script": self.app_script().display().to_string(),
            "env": env,
        });
        let o = app.as_object_mut().expect("object");
        if let Some(i) = &a.instances {
            o.insert("instances".into(), i.json());
        }
        if let Some(k) = a.kill_timeout {
            o.insert("kill_timeout".into(), k.into());
        }
        if let Some(l) = a.listen_timeout {
            o.insert("listen_timeout".into(), l.into());
        }
        if a.wait_ready {
            o.insert("wait_ready".into(), true.into());
        }
        if a.shutdown_with_message {
            o.insert("shutdown_with_message".into(), true.into());
        }
        if let Some(v) = &a.instance_var {
            o.insert("instance_var".into(), v.clone().into());
        }
        if let Some(m) = &a.exec_mode {
            o.insert("exec_mode".into(), m.clone().into());
        }
        let mut apps = vec![app];
        for x in &self.sc.extra_apps {
            let script = self.sb.file(&format!("{}.js", x.name));
            self.write_stub(&script, x.fixture.as_deref().unwrap_or(&self.sc.fixture))
                .map_err(|e| Abort::Error(e.to_string()))?;
            let mut e = serde_json::Map::new();
            e.insert(
                "PORT".into(),
                self.extra_ports
                    .get(&x.name)
                    .copied()
                    .unwrap_or(0)
                    .to_string()
                    .into(),
            );
            e.insert(
                "CONFORM_RECORD".into(),
                self.extra_records
                    .get(&x.name)
                    .map(|p| p.display().to_string())
                    .unwrap_or_default()
                    .into(),
            );
            let mut j = serde_json::json!({"name": x.name, "script": script.display().to_string(), "env": e});
            if let Some(i) = &x.instances {
                j.as_object_mut()
                    .expect("object")
                    .insert("instances".into(), i.json());
            }
            apps.push(j);
        }
        let doc =
            serde_json::to_string_pretty(&serde_json::json!({ "apps": apps })).unwrap_or_default();
        let text = match format {
            EcosystemFormat::Json => doc,
            // the guide's form: a CommonJS module exporting the same object (JSON is a JS literal)
            EcosystemFormat::Js => format!("module.exports = {doc};\n"),
        };
        let file = format.file_name();
        std::fs::write(self.sb.file(file), text)
            .map_err(|e| Abort::Error(format!("cannot write {file}: {e}")))
    }
}
