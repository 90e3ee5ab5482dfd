//! A generated design as the rest of accgen sees it: the Verilog files, the
//! top module and its port list. Co-simulation, test benches, manifests and
//! synthesis flows all start from a `Design`.

/// Direction of a port of the top module.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    In,
    Out,
}

/// One port of a design's top module.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct PortInfo {
    pub name: String,
    pub dir: Dir,
    pub width: u32,
    pub signed: bool,
    /// One line saying what the port carries.
    pub doc: String,
}

/// One Verilog source file holding exactly one module.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct VerilogFile {
    pub module: String,
    pub text: String,
}

impl VerilogFile {
    /// The file is named after its module.
    pub fn file_name(&self) -> String {
        format!("{}.v", self.module)
    }
}

/// A complete generated design.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Design {
    /// Name of the top module.
    pub top: String,
    /// Every module the top needs, each once, dependencies first.
    pub files: Vec<VerilogFile>,
    /// Ports of the top module, in declaration order.
    pub ports: Vec<PortInfo>,
    /// The clock input, if the design is clocked (always `clk_i` for accgen blocks).
    pub clock: Option<String>,
}

impl Design {
    pub fn port(&self, name: &str) -> Option<&PortInfo> {
        self.ports.iter().find(|p| p.name == name)
    }

    /// Ports driven by a test bench: every input except the clock.
    pub fn driven_inputs(&self) -> impl Iterator<Item = &PortInfo> {
        self.ports
            .iter()
            .filter(move |p| p.dir == Dir::In && Some(&p.name) != self.clock.as_ref())
    }

    pub fn outputs(&self) -> impl Iterator<Item = &PortInfo> {
        self.ports.iter().filter(|p| p.dir == Dir::Out)
    }
}

use crate::ir::verilog::{Provenance, print_module};
use crate::ir::{Item, Module, SigKind};

/// The longest module name a design keeps, as Verilator 5 counts it: an
/// identifier of 128 or more characters is replaced by a hashed one, so a
/// longer module no longer matches its file name (`DECLFILENAME` under
/// `-Wall`) nor a `--top-module` given by name. Verilator escapes each
/// `__` in a name first (4 characters more), see [`verilator_length`].
pub const MAX_MODULE_NAME: usize = 127;

/// The length of `name` as Verilator counts it against [`MAX_MODULE_NAME`]:
/// each `__` is escaped as `__05F`.
pub fn verilator_length(name: &str) -> usize {
    name.len() + 4 * name.matches("__").count()
}

/// `name` itself when it is short enough, else its first characters and a
/// hash of the whole name: `<prefix>_h<16 hex digits>`, deterministic and
/// as unique as the full name (FNV-1a, 64 bits).
pub fn short_module_name(name: &str) -> String {
    if verilator_length(name) <= MAX_MODULE_NAME {
        return name.to_string();
    }
    let hash = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    let suffix = format!("_h{hash:016x}");
    // Module names are ASCII (letters, digits and `_`), so any cut is a
    // character boundary.
    let mut cut = MAX_MODULE_NAME - suffix.len();
    loop {
        let short = format!("{}{suffix}", name[..cut].trim_end_matches('_'));
        if verilator_length(&short) <= MAX_MODULE_NAME {
            return short;
        }
        cut -= 1;
    }
}

/// `modules` with every name too long for Verilator ([`MAX_MODULE_NAME`])
/// shortened, in declarations and instances alike; the full name stays in
/// the header.
fn with_short_names(modules: &[Module]) -> Vec<Module> {
    fn rename(items: &mut [Item]) {
        for item in items {
            match item {
                Item::Instance(inst) => inst.module = short_module_name(&inst.module),
                Item::GenFor { items, .. } => rename(items),
                _ => {}
            }
        }
    }
    modules
        .iter()
        .map(|m| {
            let mut m = m.clone();
            if verilator_length(&m.name) > MAX_MODULE_NAME {
                m.doc.description.insert(
                    0,
                    format!(
                        "Full name (shortened to {MAX_MODULE_NAME} characters for Verilator): {}",
                        m.name
                    ),
                );
                m.name = short_module_name(&m.name);
            }
            rename(&mut m.items);
            m
        })
        .collect()
}

impl Design {
    /// Print `modules` (dependencies first, the top last) into a design.
    /// A module that appears twice is printed once. Module names too long
    /// for Verilator are shortened (see [`short_module_name`]).
    pub fn assemble(modules: &[Module], prov: &Provenance) -> Design {
        let modules = with_short_names(modules);
        let top = modules
            .last()
            .unwrap_or_else(|| unreachable!("a block emits at least its top module"));
        let mut files: Vec<VerilogFile> = Vec::new();
        for m in &modules {
            if files.iter().any(|f| f.module == m.name) {
                continue;
            }
            files.push(VerilogFile {
                module: m.name.clone(),
                text: print_module(m, prov),
            });
        }
        let ports = top
            .ports
            .iter()
            .map(|p| PortInfo {
                name: p.sig.name().to_string(),
                dir: if p.sig.kind() == SigKind::Input {
                    Dir::In
                } else {
                    Dir::Out
                },
                width: p.sig.width(),
                signed: p.sig.ty().signed,
                doc: p.doc.clone(),
            })
            .collect();
        Design {
            top: top.name.clone(),
            files,
            ports,
            clock: top.port("clk_i").map(|_| "clk_i".to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_verilator_keeps_are_unchanged_and_longer_ones_shortened() {
        // Measured with Verilator 5.006 --lint-only -Wall: 127 characters
        // pass, 128 are hashed; with one `__`, 123 pass and 124 are hashed.
        let plain = "m".repeat(127);
        assert_eq!(short_module_name(&plain), plain);
        let one = format!("m__{}", "a".repeat(120));
        assert_eq!(verilator_length(&one), 127);
        assert_eq!(short_module_name(&one), one);
        for long in [
            "m".repeat(128),
            format!("m__{}", "a".repeat(121)),
            format!("x__y__{}", "z".repeat(300)),
        ] {
            let short = short_module_name(&long);
            assert!(verilator_length(&short) <= MAX_MODULE_NAME, "{short}");
            assert!(
                long.starts_with(short.rsplit_once("_h").map_or("", |(p, _)| p)),
                "{short}"
            );
            assert_eq!(short_module_name(&long), short, "deterministic");
        }
        // Names that differ only past the cut stay distinct.
        let (a, b) = (format!("{}_a", "m".repeat(200)), format!("{}_b", "m".repeat(200)));
        assert_ne!(short_module_name(&a), short_module_name(&b));
    }
}
