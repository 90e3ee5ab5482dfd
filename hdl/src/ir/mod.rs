//! The embedded HDL: a typed tree of modules, ports, signals, processes,
//! instances and generate loops, and a formatter that prints it as plain
//! Verilog-2005.
//!
//! Block code builds hardware through a [`ModuleBuilder`]; it never pastes
//! Verilog text. Widths are checked as the tree is built (see [`expr`]):
//! a mismatch panics with the call site, which for a validated configuration
//! is a generator bug caught by the tests, never a user error.

pub mod expr;
pub mod verilog;

pub use expr::{BinOp, Expr, Index, Ty, UnOp, all, any, concat, mux, repeat};

use std::panic::Location;
use std::sync::Arc;

/// How registers are reset. FPGA flows prefer a synchronous active-high
/// reset (Xilinx UG901); ASIC flows often want an asynchronous active-low one.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ResetStyle {
    #[default]
    SyncHigh,
    AsyncLow,
}

impl ResetStyle {
    pub fn port_name(self) -> &'static str {
        match self {
            ResetStyle::SyncHigh => "rst_i",
            ResetStyle::AsyncLow => "rst_ni",
        }
    }

    pub fn doc(self) -> &'static str {
        match self {
            ResetStyle::SyncHigh => "synchronous reset, active high",
            ResetStyle::AsyncLow => "asynchronous reset, active low",
        }
    }

    /// Value of the reset input that holds the design in reset.
    pub fn asserted(self) -> u64 {
        match self {
            ResetStyle::SyncHigh => 1,
            ResetStyle::AsyncLow => 0,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum SigKind {
    Input,
    Output,
    Wire,
    Reg,
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct SignalData {
    name: String,
    ty: Ty,
    kind: SigKind,
    /// Symbolic width for the declaration, e.g. `ACC_W`.
    width_name: Option<String>,
}

/// A named net: a port, wire or register. Cheap to clone.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Signal(Arc<SignalData>);

impl Signal {
    pub fn name(&self) -> &str {
        &self.0.name
    }
    pub fn ty(&self) -> Ty {
        self.0.ty
    }
    pub fn width(&self) -> u32 {
        self.0.ty.width
    }
    pub fn kind(&self) -> SigKind {
        self.0.kind
    }
    pub fn width_name(&self) -> Option<&str> {
        self.0.width_name.as_deref()
    }
    /// The signal as an expression.
    pub fn e(&self) -> Expr {
        Expr::Sig(self.clone())
    }
    #[track_caller]
    pub fn select(&self, lo: impl Into<Index>, width: impl Into<Width>) -> Expr {
        self.e().select(lo, width)
    }
    #[track_caller]
    pub fn bit(&self, i: impl Into<Index>) -> Expr {
        self.e().bit(i)
    }
}

#[derive(Debug, PartialEq, Eq, Hash)]
struct MemoryData {
    name: String,
    width: u32,
    depth: u32,
    /// Symbolic width and depth for the declaration, e.g. `ROW_W`, `N_IN*SLOTS`.
    width_name: Option<String>,
    depth_name: Option<String>,
}

/// A memory array `reg [W-1:0] name [0:DEPTH-1]`: written in clocked
/// processes ([`ProcessBuilder::write_mem`]) and read with [`Memory::read`];
/// a read registered in a process is what synthesis maps to block RAM.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Memory(Arc<MemoryData>);

impl Memory {
    pub fn name(&self) -> &str {
        &self.0.name
    }
    pub fn width(&self) -> u32 {
        self.0.width
    }
    pub fn depth(&self) -> u32 {
        self.0.depth
    }
    pub fn width_name(&self) -> Option<&str> {
        self.0.width_name.as_deref()
    }
    pub fn depth_name(&self) -> Option<&str> {
        self.0.depth_name.as_deref()
    }
    /// Width of an address: exactly `clog2(depth)` (at least one bit), so
    /// every address selects a word and linters see no width mismatch.
    pub fn addr_width(&self) -> u32 {
        crate::params::clog2(self.0.depth as u64).max(1)
    }
    /// `name[addr]`.
    #[track_caller]
    pub fn read(&self, addr: impl Into<Expr>) -> Expr {
        let addr = addr.into();
        assert!(
            addr.width() == self.addr_width() && !addr.ty().signed,
            "{}: a {}-bit address needs {} unsigned bits",
            self.name(),
            addr.width(),
            self.addr_width()
        );
        Expr::MemRead(self.clone(), Arc::new(addr))
    }
}

/// A generate-loop variable ranging over `first..end`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Genvar {
    pub name: String,
    pub first: u32,
    pub end: u32,
    /// The localparam that names `end`, if any.
    pub end_name: Option<String>,
}

/// A named constant of the module, emitted as a commented `localparam`.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Param {
    pub name: String,
    pub value: i64,
    /// How it is derived, one line.
    pub doc: String,
}

/// Where a width comes from: a number, optionally with the localparam that names it.
#[derive(Clone, Debug)]
pub struct Width {
    pub value: u32,
    pub name: Option<String>,
}

impl Width {
    /// A width written as a Verilog constant expression, e.g. `3*ACT_W`.
    pub fn named(value: u32, text: impl Into<String>) -> Width {
        Width {
            value,
            name: Some(text.into()),
        }
    }
}

impl Param {
    /// `k` times this width, printed as `k*NAME`.
    pub fn times(&self, k: u32) -> Width {
        let text = if k == 1 {
            self.name.clone()
        } else {
            format!("{k}*{}", self.name)
        };
        Width::named(k * self.value as u32, text)
    }
}

impl From<u32> for Width {
    fn from(value: u32) -> Width {
        Width { value, name: None }
    }
}

impl From<&Param> for Width {
    fn from(p: &Param) -> Width {
        Width {
            value: p.value as u32,
            name: Some(p.name.clone()),
        }
    }
}

/// The target of an assignment: a signal or a slice of one.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct LValue {
    pub sig: Signal,
    pub slice: Option<(Index, u32)>,
    /// The localparam that names the slice width, if any.
    pub width_name: Option<String>,
}

impl LValue {
    pub fn ty(&self) -> Ty {
        match &self.slice {
            None => self.sig.ty(),
            Some((_, w)) => Ty::u(*w),
        }
    }
}

impl From<&Signal> for LValue {
    fn from(sig: &Signal) -> LValue {
        LValue {
            sig: sig.clone(),
            slice: None,
            width_name: None,
        }
    }
}

impl Signal {
    /// A slice of the signal as an assignment target.
    #[track_caller]
    pub fn part(&self, lo: impl Into<Index>, width: impl Into<Width>) -> LValue {
        let lo = lo.into();
        let Width { value, name } = width.into();
        // Reuse the select's bounds check.
        let _ = self.select(lo.clone(), value);
        LValue {
            sig: self.clone(),
            slice: Some((lo, value)),
            width_name: name,
        }
    }
}

/// Statements inside a clocked process. Assignments are non-blocking.
#[derive(Clone, Debug)]
pub enum Stmt {
    Assign(LValue, Expr),
    /// `mem[addr] <= data;`
    MemWrite(Memory, Expr, Expr),
    If(Expr, Vec<Stmt>, Vec<Stmt>),
}

/// The reset of a process: its input, its style and the values registers take.
pub type Reset = (Signal, ResetStyle, Vec<(LValue, Expr)>);

/// `always @(posedge clk)` with an optional reset and clock enable.
#[derive(Clone, Debug)]
pub struct Process {
    pub clock: Signal,
    pub reset: Option<Reset>,
    pub enable: Option<Expr>,
    pub body: Vec<Stmt>,
}

/// A port connection of an instance.
#[derive(Clone, Debug)]
pub struct Connection {
    pub port: String,
    pub expr: Option<Expr>,
    pub output: Option<LValue>,
}

#[derive(Clone, Debug)]
pub struct Instance {
    pub module: String,
    pub name: String,
    pub connections: Vec<Connection>,
}

/// Items in a module body or a generate block.
#[derive(Clone, Debug)]
pub enum Item {
    /// A titled section: a comment block naming what follows and the Rust source that emitted it.
    Section {
        title: String,
        lines: Vec<String>,
        origin: &'static str,
    },
    Decl {
        sig: Signal,
        doc: String,
    },
    /// A memory array declaration.
    MemDecl {
        mem: Memory,
        doc: String,
    },
    /// `initial $readmemh("file", mem);`: contents at synthesis time.
    ReadMemH {
        file: String,
        mem: Memory,
    },
    Assign(LValue, Expr),
    Process(Process),
    Instance(Instance),
    GenFor {
        label: String,
        var: Genvar,
        items: Vec<Item>,
    },
}

/// Documentation carried into the file header.
#[derive(Clone, Debug, Default)]
pub struct ModuleDoc {
    /// One line saying what the module is.
    pub title: String,
    /// Further paragraphs: dataflow, protocol, numerics.
    pub description: Vec<String>,
    /// Parameter table: name, value, meaning.
    pub params: Vec<(String, String, String)>,
    /// Latency and throughput, one or more lines.
    pub timing: Vec<String>,
}

/// A port of a finished module.
#[derive(Clone, Debug)]
pub struct Port {
    pub sig: Signal,
    pub doc: String,
}

/// A finished module, ready to print.
#[derive(Clone, Debug)]
pub struct Module {
    pub name: String,
    pub doc: ModuleDoc,
    pub ports: Vec<Port>,
    pub params: Vec<Param>,
    pub genvars: Vec<String>,
    pub items: Vec<Item>,
    /// Synthesis attributes printed before `module`, e.g. `keep_hierarchy`.
    pub attributes: Vec<String>,
}

impl Module {
    pub fn port(&self, name: &str) -> Option<&Port> {
        self.ports.iter().find(|p| p.sig.name() == name)
    }
}

fn origin_of(loc: &'static Location<'static>) -> &'static str {
    loc.file()
}

/// A sequence of items being built: the module body or a generate block.
#[derive(Default)]
pub struct Scope {
    items: Vec<Item>,
}

/// Builds one module.
pub struct ModuleBuilder {
    name: String,
    doc: ModuleDoc,
    ports: Vec<Port>,
    params: Vec<Param>,
    genvars: Vec<String>,
    scopes: Vec<Scope>,
    names: std::collections::HashSet<String>,
    attributes: Vec<String>,
}

impl ModuleBuilder {
    pub fn new(name: impl Into<String>, doc: ModuleDoc) -> ModuleBuilder {
        ModuleBuilder {
            name: name.into(),
            doc,
            ports: Vec::new(),
            params: Vec::new(),
            genvars: Vec::new(),
            scopes: vec![Scope::default()],
            names: Default::default(),
            attributes: Vec::new(),
        }
    }

    /// Add a synthesis attribute to the module, printed as `(* name *)`
    /// before `module`; `why` is printed above it as a comment.
    pub fn attribute(&mut self, name: &str, why: &str) {
        assert!(
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "attribute `{name}` is not a plain identifier"
        );
        self.attributes.push(format!("// {why}\n(* {name} *)"));
    }

    #[track_caller]
    fn claim(&mut self, name: &str) {
        assert!(
            self.names.insert(name.to_string()),
            "name `{name}` declared twice in module {}",
            self.name
        );
    }

    fn push(&mut self, item: Item) {
        self.scopes
            .last_mut()
            .unwrap_or_else(|| unreachable!("the module scope is never popped"))
            .items
            .push(item);
    }

    fn signal(kind: SigKind, name: &str, ty: Ty, width: Option<String>) -> Signal {
        Signal(Arc::new(SignalData {
            name: name.to_string(),
            ty,
            kind,
            width_name: width,
        }))
    }

    #[track_caller]
    pub fn input(&mut self, name: &str, ty: Ty, doc: &str) -> Signal {
        self.claim(name);
        let sig = Self::signal(SigKind::Input, name, ty, None);
        self.ports.push(Port {
            sig: sig.clone(),
            doc: doc.to_string(),
        });
        sig
    }

    /// An output port; it is driven like a wire (`assign` or an instance output).
    #[track_caller]
    pub fn output(&mut self, name: &str, ty: Ty, doc: &str) -> Signal {
        self.claim(name);
        let sig = Self::signal(SigKind::Output, name, ty, None);
        self.ports.push(Port {
            sig: sig.clone(),
            doc: doc.to_string(),
        });
        sig
    }

    /// A commented `localparam`.
    #[track_caller]
    pub fn localparam(&mut self, name: &str, value: i64, doc: &str) -> Param {
        self.claim(name);
        let p = Param {
            name: name.to_string(),
            value,
            doc: doc.to_string(),
        };
        self.params.push(p.clone());
        p
    }

    #[track_caller]
    fn declare(&mut self, kind: SigKind, name: &str, width: Width, signed: bool, doc: &str) -> Signal {
        self.claim(name);
        let sig = Self::signal(kind, name, Ty::new(width.value, signed), width.name);
        self.push(Item::Decl {
            sig: sig.clone(),
            doc: doc.to_string(),
        });
        sig
    }

    #[track_caller]
    pub fn wire(&mut self, name: &str, width: impl Into<Width>, signed: bool, doc: &str) -> Signal {
        self.declare(SigKind::Wire, name, width.into(), signed, doc)
    }

    #[track_caller]
    pub fn reg(&mut self, name: &str, width: impl Into<Width>, signed: bool, doc: &str) -> Signal {
        self.declare(SigKind::Reg, name, width.into(), signed, doc)
    }

    /// A memory array of `depth` words of `width` bits.
    #[track_caller]
    pub fn memory(&mut self, name: &str, width: impl Into<Width>, depth: impl Into<Width>, doc: &str) -> Memory {
        let (width, depth) = (width.into(), depth.into());
        assert!(
            width.value > 0 && depth.value > 0,
            "memory {name} of {} x {} bits",
            depth.value,
            width.value
        );
        self.claim(name);
        let mem = Memory(Arc::new(MemoryData {
            name: name.to_string(),
            width: width.value,
            depth: depth.value,
            width_name: width.name,
            depth_name: depth.name,
        }));
        self.push(Item::MemDecl {
            mem: mem.clone(),
            doc: doc.to_string(),
        });
        mem
    }

    /// Initialise `mem` from a hex file (one word per line) when the design
    /// is elaborated: synthesis tools fold it into the block RAM's contents.
    pub fn readmemh(&mut self, mem: &Memory, file: &str) {
        assert!(
            !file.contains('"') && !file.contains('\\'),
            "memory file name {file:?} needs no escaping"
        );
        self.push(Item::ReadMemH {
            file: file.to_string(),
            mem: mem.clone(),
        });
    }

    /// Declare a wire and drive it with `e`.
    #[track_caller]
    pub fn wire_of(&mut self, name: &str, e: impl Into<Expr>, doc: &str) -> Signal {
        let e = e.into();
        let t = e.ty();
        let w = self.wire(name, t.width, t.signed, doc);
        self.assign(&w, e);
        w
    }

    /// A comment block titled `title` before the items that follow.
    #[track_caller]
    pub fn section(&mut self, title: &str, lines: &[&str]) {
        let origin = origin_of(Location::caller());
        self.push(Item::Section {
            title: title.to_string(),
            lines: lines.iter().map(|s| s.to_string()).collect(),
            origin,
        });
    }

    /// Continuous assignment `assign lhs = e;`.
    #[track_caller]
    pub fn assign(&mut self, lhs: impl Into<LValue>, e: impl Into<Expr>) {
        let (lhs, e) = (lhs.into(), e.into());
        assert!(
            matches!(lhs.sig.kind(), SigKind::Wire | SigKind::Output),
            "assign to `{}`, which is not a wire or output",
            lhs.sig.name()
        );
        assert_eq!(
            lhs.ty().width,
            e.ty().width,
            "assign to `{}`: {} bits from a {}-bit expression",
            lhs.sig.name(),
            lhs.ty().width,
            e.ty().width
        );
        self.push(Item::Assign(lhs, e));
    }

    /// A clocked process; see [`ProcessBuilder`].
    #[track_caller]
    pub fn process(&mut self, clock: &Signal, f: impl FnOnce(&mut ProcessBuilder)) {
        let mut p = ProcessBuilder {
            process: Process {
                clock: clock.clone(),
                reset: None,
                enable: None,
                body: Vec::new(),
            },
            stack: vec![Vec::new()],
        };
        f(&mut p);
        let mut process = p.process;
        process.body = p.stack.pop().unwrap_or_default();
        self.push(Item::Process(process));
    }

    /// Instantiate `module`, connecting every port. Widths are checked against
    /// the module's declaration.
    #[track_caller]
    pub fn instance(&mut self, module: &Module, name: &str, connect: Vec<(&str, PortConn)>) {
        self.claim(name);
        let mut connections = Vec::new();
        for port in &module.ports {
            let Some((_, conn)) = connect.iter().find(|(n, _)| *n == port.sig.name()) else {
                panic!(
                    "instance {name} of {}: port {} not connected",
                    module.name,
                    port.sig.name()
                );
            };
            let pw = port.sig.width();
            let (expr, output) = match conn {
                PortConn::In(e) => {
                    assert_eq!(
                        port.sig.kind(),
                        SigKind::Input,
                        "{name}.{} is not an input",
                        port.sig.name()
                    );
                    assert_eq!(
                        e.width(),
                        pw,
                        "{name}.{}: {} bits to a {pw}-bit port",
                        port.sig.name(),
                        e.width()
                    );
                    (Some(e.clone()), None)
                }
                PortConn::Out(l) => {
                    assert_eq!(
                        port.sig.kind(),
                        SigKind::Output,
                        "{name}.{} is not an output",
                        port.sig.name()
                    );
                    assert_eq!(
                        l.ty().width,
                        pw,
                        "{name}.{}: {}-bit port into {} bits",
                        port.sig.name(),
                        pw,
                        l.ty().width
                    );
                    (None, Some(l.clone()))
                }
                PortConn::Open(why) => {
                    assert_eq!(
                        port.sig.kind(),
                        SigKind::Output,
                        "{name}.{}: only an output may be left open",
                        port.sig.name()
                    );
                    // `.port ()` is Verilog's open output, but Verilator -Wall
                    // flags it (PINCONNECTEMPTY) and the generated code takes no
                    // waivers; a wire named `unused_*` is exempt from Verilator's
                    // unused-signal warnings by default (-unused-regexp) and
                    // says the same thing to a reader.
                    let wire = self.wire(
                        &format!("unused_{name}_{}", port.sig.name()),
                        port.sig.width(),
                        port.sig.ty().signed,
                        &format!("{name}.{} left open: {why}", port.sig.name()),
                    );
                    (None, Some(LValue::from(&wire)))
                }
            };
            connections.push(Connection {
                port: port.sig.name().to_string(),
                expr,
                output,
            });
        }
        for (n, _) in &connect {
            assert!(
                module.port(n).is_some(),
                "instance {name}: {} has no port {n}",
                module.name
            );
        }
        self.push(Item::Instance(Instance {
            module: module.name.clone(),
            name: name.to_string(),
            connections,
        }));
    }

    /// A named generate loop `for (var = 0; var < count; ...) begin : label`.
    /// The closure builds one iteration; indices use the returned [`Genvar`].
    #[track_caller]
    pub fn gen_for(&mut self, label: &str, var: &str, count: impl Into<Width>, f: impl FnOnce(&mut Self, &Genvar)) {
        let Width {
            value: count,
            name: end_name,
        } = count.into();
        assert!(count > 0, "generate loop {label} with no iterations");
        self.claim(label);
        if !self.genvars.iter().any(|g| g == var) {
            self.genvars.push(var.to_string());
        }
        let g = Genvar {
            name: var.to_string(),
            first: 0,
            end: count,
            end_name,
        };
        // Names inside a generate block live in its own scope.
        let outer_names = self.names.clone();
        self.scopes.push(Scope::default());
        f(self, &g);
        let scope = self.scopes.pop().unwrap_or_default();
        self.names = outer_names;
        self.push(Item::GenFor {
            label: label.to_string(),
            var: g,
            items: scope.items,
        });
    }

    pub fn finish(mut self) -> Module {
        let items = self.scopes.pop().map(|s| s.items).unwrap_or_default();
        Module {
            name: self.name,
            doc: self.doc,
            ports: self.ports,
            params: self.params,
            genvars: self.genvars,
            items,
            attributes: self.attributes,
        }
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

/// What an instance port connects to.
pub enum PortConn {
    In(Expr),
    Out(LValue),
    /// An output nothing reads, with the reason for the reader.
    Open(String),
}

/// Connect an input port.
pub fn drive(e: impl Into<Expr>) -> PortConn {
    PortConn::In(e.into())
}

/// Connect an output port to a wire or a slice of one.
pub fn sink(l: impl Into<LValue>) -> PortConn {
    PortConn::Out(l.into())
}

/// Leave an output port unconnected (`why` is written beside it): it lands
/// on a wire `unused_<instance>_<port>` that nothing reads.
pub fn leave_open(why: &str) -> PortConn {
    PortConn::Open(why.to_string())
}

/// Builds the body of a clocked process.
pub struct ProcessBuilder {
    process: Process,
    stack: Vec<Vec<Stmt>>,
}

impl ProcessBuilder {
    /// Registers in `values` take those values while `rst` is asserted.
    #[track_caller]
    pub fn reset(&mut self, rst: &Signal, style: ResetStyle, values: Vec<(LValue, Expr)>) {
        for (l, e) in &values {
            assert_eq!(
                l.ty().width,
                e.width(),
                "reset value of `{}` has the wrong width",
                l.sig.name()
            );
        }
        self.process.reset = Some((rst.clone(), style, values));
    }

    /// The process updates only when `en` is high.
    #[track_caller]
    pub fn enable(&mut self, en: impl Into<Expr>) {
        let en = en.into();
        assert_eq!(en.width(), 1, "clock enable must be one bit");
        self.process.enable = Some(en);
    }

    /// `lhs <= e;`
    #[track_caller]
    pub fn set(&mut self, lhs: impl Into<LValue>, e: impl Into<Expr>) {
        let (lhs, e) = (lhs.into(), e.into());
        assert_eq!(
            lhs.sig.kind(),
            SigKind::Reg,
            "`{}` is assigned in a process but not declared reg",
            lhs.sig.name()
        );
        assert_eq!(
            lhs.ty().width,
            e.width(),
            "`{}` <= {}-bit expression, expected {} bits",
            lhs.sig.name(),
            e.width(),
            lhs.ty().width
        );
        self.top().push(Stmt::Assign(lhs, e));
    }

    /// `mem[addr] <= data;`
    #[track_caller]
    pub fn write_mem(&mut self, mem: &Memory, addr: impl Into<Expr>, data: impl Into<Expr>) {
        let (addr, data) = (addr.into(), data.into());
        assert_eq!(
            addr.width(),
            mem.addr_width(),
            "{}: write address of {} bits, expected {}",
            mem.name(),
            addr.width(),
            mem.addr_width()
        );
        assert_eq!(
            data.width(),
            mem.width(),
            "{}: write data of {} bits, expected {}",
            mem.name(),
            data.width(),
            mem.width()
        );
        self.top().push(Stmt::MemWrite(mem.clone(), addr, data));
    }

    fn top(&mut self) -> &mut Vec<Stmt> {
        self.stack
            .last_mut()
            .unwrap_or_else(|| unreachable!("the process body is never popped"))
    }

    /// `if (cond) begin ... end`.
    #[track_caller]
    pub fn when(&mut self, cond: impl Into<Expr>, then: impl FnOnce(&mut Self)) {
        self.when_else(cond, then, |_| {});
    }

    /// `if (cond) begin ... end else begin ... end`.
    #[track_caller]
    pub fn when_else(
        &mut self,
        cond: impl Into<Expr>,
        then: impl FnOnce(&mut Self),
        otherwise: impl FnOnce(&mut Self),
    ) {
        let cond = cond.into();
        assert_eq!(cond.width(), 1, "if condition must be one bit");
        self.stack.push(Vec::new());
        then(self);
        let t = self.stack.pop().unwrap_or_default();
        self.stack.push(Vec::new());
        otherwise(self);
        let e = self.stack.pop().unwrap_or_default();
        self.top().push(Stmt::If(cond, t, e));
    }
}
