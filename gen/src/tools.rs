//! Finding the EDA tools, and installing them from the distribution when we
//! may (running as root on Debian or Ubuntu); otherwise the exact command.

use std::process::{Command, Stdio};

/// A tool and the Debian package that provides it.
pub struct Tool {
    pub command: &'static str,
    pub package: &'static str,
}

pub const VERILATOR: Tool = Tool {
    command: "verilator",
    package: "verilator",
};
pub const IVERILOG: Tool = Tool {
    command: "iverilog",
    package: "iverilog",
};

fn on_path(command: &str) -> bool {
    std::env::var_os("PATH")
        .map(|paths| std::env::split_paths(&paths).any(|dir| dir.join(command).is_file()))
        .unwrap_or(false)
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

/// Make sure `tools` are installed: install missing ones with apt-get when
/// running as root, else return the command the user should run.
pub fn ensure(tools: &[Tool]) -> Result<(), String> {
    let missing: Vec<&Tool> = tools.iter().filter(|t| !on_path(t.command)).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let packages: Vec<&str> = missing.iter().map(|t| t.package).collect();
    let command = format!("apt-get install -y --no-install-recommends {}", packages.join(" "));
    if !(is_root() && on_path("apt-get")) {
        return Err(format!(
            "error: {} not found. Install with:\n  sudo apt-get update && sudo {command}\n(Debian 12 / Ubuntu; Verilator 5.006 and Icarus Verilog 11 are tested)",
            missing.iter().map(|t| t.command).collect::<Vec<_>>().join(", ")
        ));
    }
    eprintln!("accgen: installing {} with apt-get", packages.join(" "));
    let ok = |c: &mut Command| c.stdout(Stdio::null()).status().map(|s| s.success()).unwrap_or(false);
    let env = [("DEBIAN_FRONTEND", "noninteractive")];
    let updated = ok(Command::new("apt-get").arg("update").envs(env));
    let installed = updated
        && ok(Command::new("apt-get")
            .args(["install", "-y", "--no-install-recommends"])
            .args(&packages)
            .envs(env));
    if installed && missing.iter().all(|t| on_path(t.command)) {
        Ok(())
    } else {
        Err(format!(
            "error: installing {} failed; run `{command}` and try again",
            packages.join(" ")
        ))
    }
}
