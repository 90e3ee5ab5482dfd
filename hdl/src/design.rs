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
use crate::ir::{Module, SigKind};

impl Design {
    /// Print `modules` (dependencies first, the top last) into a design.
    /// A module that appears twice is printed once.
    pub fn assemble(modules: &[Module], prov: &Provenance) -> Design {
        let top = modules
            .last()
            .unwrap_or_else(|| unreachable!("a block emits at least its top module"));
        let mut files: Vec<VerilogFile> = Vec::new();
        for m in modules {
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
