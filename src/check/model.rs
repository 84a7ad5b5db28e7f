//! The typed model: what the checker hands to lowering. Names are resolved to table indices,
//! every expression carries its type, equations are split into drift and diffusion, reactions
//! carry integer stoichiometry, and the model's kind and noise structure are recorded.

use super::builtins::{Builtin, DistKind};
use super::types::{Type, Value};
use crate::source::Span;
use crate::syntax::ast::{BinOp, UnOp};

/// Everything checked in one run: the functions visible to the models, and the models.
#[derive(Clone, Debug, Default)]
pub struct Program {
    pub functions: Vec<Function>,
    pub models: Vec<Model>,
}

/// A user function; calls to it are inlined by lowering.
#[derive(Clone, Debug)]
pub struct Function {
    pub name: String,
    pub doc: Option<String>,
    /// Parameters are the first `params.len()` locals.
    pub params: Vec<usize>,
    pub ret: Type,
    pub locals: Vec<Local>,
    /// `let`s of a block body, in order: local index and value.
    pub lets: Vec<(usize, TExpr)>,
    pub body: TExpr,
    pub span: Span,
}

/// A reference to a declared value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Var {
    Const(usize),
    Param(usize),
    Data(usize),
    Obs(usize),
    State(usize),
    Species(usize),
    Let(usize),
    /// Loop variables, function parameters, and `let`s inside jump and event bodies.
    Local(usize),
}

#[derive(Clone, Debug, PartialEq)]
pub struct TExpr {
    pub kind: TKind,
    pub ty: Type,
    pub span: Span,
}

impl TExpr {
    /// Direct sub-expressions.
    pub fn children(&self) -> Vec<&TExpr> {
        match &self.kind {
            TKind::Unary(_, a) | TKind::Grad(a, _) => vec![a],
            TKind::Binary(_, a, b) => vec![a, b],
            TKind::Call(_, args) | TKind::CallFn(_, args) | TKind::Array(args) => {
                args.iter().collect()
            }
            TKind::Index(b, idx) => std::iter::once(&**b).chain(idx.iter()).collect(),
            TKind::If(c, a, b) => vec![c, a, b],
            TKind::Reduce { binders, body, .. } => binders
                .iter()
                .flat_map(|b| [&b.lo, &b.hi])
                .chain(std::iter::once(&**body))
                .collect(),
            TKind::Differential(Differential::Noise { index, .. }) => index.iter().collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum TKind {
    Int(i64),
    Real(f64),
    Bool(bool),
    Var(Var),
    /// The current time `t`.
    Time,
    Unary(UnOp, Box<TExpr>),
    /// Never `BinOp::Juxtapose` (that becomes `Mul`).
    Binary(BinOp, Box<TExpr>, Box<TExpr>),
    Call(Builtin, Vec<TExpr>),
    /// A call of `Program::functions[index]`.
    CallFn(usize, Vec<TExpr>),
    Index(Box<TExpr>, Vec<TExpr>),
    Array(Vec<TExpr>),
    If(Box<TExpr>, Box<TExpr>, Box<TExpr>),
    /// `sum(i in lo..hi) body` and friends.
    Reduce {
        op: Reduction,
        binders: Vec<Binder>,
        body: Box<TExpr>,
    },
    /// `grad(expr, x)`: the derivative of a scalar expression with respect to `x`.
    Grad(Box<TExpr>, Var),
    /// A differential inside an equation's right side, before it is split into drift and
    /// diffusion. Never present in a finished model.
    Differential(Differential),
    /// Stands in for an expression that failed to check (only in models with errors).
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Reduction {
    Sum,
    Prod,
    Mean,
    Min,
    Max,
}

impl Reduction {
    pub fn from_name(name: &str) -> Option<Reduction> {
        Some(match name {
            "sum" => Reduction::Sum,
            "prod" => Reduction::Prod,
            "mean" => Reduction::Mean,
            "min" => Reduction::Min,
            "max" => Reduction::Max,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Reduction::Sum => "sum",
            Reduction::Prod => "prod",
            Reduction::Mean => "mean",
            Reduction::Min => "min",
            Reduction::Max => "max",
        }
    }
}

/// `var in lo..hi`, inclusive; `var` is a local.
#[derive(Clone, Debug, PartialEq)]
pub struct Binder {
    pub local: usize,
    pub lo: TExpr,
    pub hi: TExpr,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Differential {
    Time,
    /// `dW` (whole noise, or element-wise against an array state) or `dW[k]`.
    Noise {
        noise: usize,
        index: Vec<TExpr>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Local {
    pub name: String,
    pub ty: Type,
    pub span: Span,
}

/// `<lower=…, upper=…>`
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Bounds {
    pub lower: Option<TExpr>,
    pub upper: Option<TExpr>,
}

/// A distribution with checked arguments.
#[derive(Clone, Debug, PartialEq)]
pub struct DistCall {
    pub dist: DistKind,
    pub args: Vec<TExpr>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Const {
    pub name: String,
    pub ty: Type,
    pub value: Value,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Param {
    pub name: String,
    pub doc: Option<String>,
    pub ty: Type,
    pub bounds: Bounds,
    pub default: Option<TExpr>,
    pub prior: Option<DistCall>,
    pub span: Span,
}

/// `data` and `obs` declarations.
#[derive(Clone, Debug)]
pub struct DataDecl {
    pub name: String,
    pub doc: Option<String>,
    pub ty: Type,
    pub bounds: Bounds,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum StateInit {
    Value(TExpr),
    Random(DistCall),
    /// Spins without an initial value start uniformly at random.
    UniformSpin,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Boundary {
    Reflect,
}

#[derive(Clone, Debug)]
pub struct State {
    pub name: String,
    pub doc: Option<String>,
    pub ty: Type,
    pub bounds: Bounds,
    pub boundary: Option<Boundary>,
    pub init: StateInit,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Species {
    pub name: String,
    pub doc: Option<String>,
    pub init: TExpr,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct Noise {
    pub name: String,
    /// Empty for a scalar Wiener process.
    pub ty: Type,
    /// An undeclared lone `dW`.
    pub implicit: bool,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LetRole {
    Let,
    /// `output let`: recorded with the results.
    Output,
    /// `potential U = …`: the model's target is exp(-U).
    Potential,
    /// `energy H = …`: the model's target is exp(-βH).
    Energy,
}

#[derive(Clone, Debug)]
pub struct Let {
    pub name: String,
    pub doc: Option<String>,
    pub role: LetRole,
    /// The declared type, or the value's.
    pub ty: Type,
    pub value: TExpr,
    pub span: Span,
}

/// One SDE/ODE equation `dx[idx] = drift dt + Σ coeff dW`.
#[derive(Clone, Debug)]
pub struct Equation {
    pub state: usize,
    pub binders: Vec<Binder>,
    /// Indices on the left; empty when the equation covers the whole state.
    pub indices: Vec<TExpr>,
    pub drift: Option<TExpr>,
    pub diffusion: Vec<NoiseTerm>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub struct NoiseTerm {
    pub noise: usize,
    /// Indices of the noise component; empty for a scalar noise, or for an array noise used
    /// element-wise against an array left side of the same shape.
    pub index: Vec<TExpr>,
    pub coeff: TExpr,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RateLaw {
    /// `->`: propensity = rate · Π C(n_s, ν_s).
    MassAction,
    /// `=>`: the rate expression is the propensity.
    Propensity,
}

#[derive(Clone, Debug)]
pub struct Reaction {
    pub name: String,
    /// (species, coefficient), each species once, in order of appearance.
    pub reactants: Vec<(usize, u32)>,
    pub products: Vec<(usize, u32)>,
    pub law: RateLaw,
    pub rate: TExpr,
    pub span: Span,
}

impl Reaction {
    /// Net change of every species the reaction touches (non-zero entries only).
    pub fn net_change(&self) -> Vec<(usize, i64)> {
        let mut out: Vec<(usize, i64)> = Vec::new();
        let mut add = |s: usize, d: i64| match out.iter_mut().find(|(x, _)| *x == s) {
            Some(e) => e.1 += d,
            None => out.push((s, d)),
        };
        for &(s, c) in &self.reactants {
            add(s, -i64::from(c));
        }
        for &(s, c) in &self.products {
            add(s, i64::from(c));
        }
        out.retain(|&(_, d)| d != 0);
        out
    }
}

/// What a jump or event does when it fires, in order.
#[derive(Clone, Debug)]
pub enum Action {
    /// `let J ~ D(…)`: a fresh draw into a local.
    Draw {
        local: usize,
        dist: DistCall,
    },
    Let {
        local: usize,
        value: TExpr,
    },
    Assign {
        target: Var,
        indices: Vec<TExpr>,
        value: TExpr,
        span: Span,
    },
}

#[derive(Clone, Debug)]
pub struct Jump {
    pub name: String,
    pub binders: Vec<Binder>,
    pub rate: TExpr,
    pub actions: Vec<Action>,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum Trigger {
    /// `at t = e`
    At(TExpr),
    /// `when cond` (fires when the condition becomes true)
    When(TExpr),
}

#[derive(Clone, Debug)]
pub struct Event {
    pub trigger: Trigger,
    pub actions: Vec<Action>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TildeRole {
    /// A parameter on the left.
    Prior,
    /// `data` on the left.
    Likelihood,
    /// `obs` on the left: the observation model of a state-space model.
    Observation,
}

#[derive(Clone, Debug)]
pub struct Tilde {
    pub role: TildeRole,
    pub target: Var,
    pub indices: Vec<TExpr>,
    pub binders: Vec<Binder>,
    pub dist: DistCall,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Calculus {
    Ito,
    Stratonovich,
}

/// What drives the dynamics.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dynamics {
    /// Equations with noise.
    Sde,
    /// Equations without noise.
    Ode,
    /// Reactions and/or jumps only.
    Mjp,
    /// Equations plus reactions or jumps.
    JumpDiffusion,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ModelKind {
    Dynamic(Dynamics),
    /// Dynamics observed through `obs`.
    StateSpace(Dynamics),
    /// Only `~` statements: a static graphical model.
    Graphical,
    /// `potential` / `energy` without dynamics.
    Target,
}

impl Dynamics {
    pub fn name(self) -> &'static str {
        match self {
            Dynamics::Sde => "SDE",
            Dynamics::Ode => "ODE",
            Dynamics::Mjp => "MJP",
            Dynamics::JumpDiffusion => "jump-diffusion",
        }
    }
}

impl std::fmt::Display for ModelKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ModelKind::Dynamic(d) => f.write_str(d.name()),
            ModelKind::StateSpace(d) => write!(f, "state-space ({})", d.name()),
            ModelKind::Graphical => f.write_str("graphical"),
            ModelKind::Target => f.write_str("target"),
        }
    }
}

/// How the noise enters the equations (engines pick schemes by it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoiseShape {
    /// Each state component is driven by its own noise component.
    Diagonal,
    /// One scalar Wiener process drives everything (commutative noise).
    Scalar,
    General,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoiseStructure {
    /// The diffusion coefficients do not depend on the state.
    pub additive: bool,
    pub shape: NoiseShape,
}

impl std::fmt::Display for NoiseStructure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let shape = match self.shape {
            NoiseShape::Diagonal => "diagonal",
            NoiseShape::Scalar => "scalar",
            NoiseShape::General => "general",
        };
        if self.additive {
            write!(f, "additive, {shape}")
        } else {
            write!(f, "multiplicative, {shape}")
        }
    }
}

#[derive(Clone, Debug)]
pub struct Model {
    pub name: String,
    pub doc: Option<String>,
    pub kind: ModelKind,
    pub calculus: Calculus,
    /// `None` when the model has no noise terms.
    pub noise: Option<NoiseStructure>,
    pub consts: Vec<Const>,
    pub params: Vec<Param>,
    pub data: Vec<DataDecl>,
    pub obs: Vec<DataDecl>,
    pub states: Vec<State>,
    pub species: Vec<Species>,
    pub noises: Vec<Noise>,
    pub lets: Vec<Let>,
    pub locals: Vec<Local>,
    pub equations: Vec<Equation>,
    pub reactions: Vec<Reaction>,
    pub jumps: Vec<Jump>,
    pub events: Vec<Event>,
    pub tildes: Vec<Tilde>,
    pub span: Span,
}

impl Model {
    pub fn var_name(&self, v: Var) -> &str {
        match v {
            Var::Const(i) => &self.consts[i].name,
            Var::Param(i) => &self.params[i].name,
            Var::Data(i) => &self.data[i].name,
            Var::Obs(i) => &self.obs[i].name,
            Var::State(i) => &self.states[i].name,
            Var::Species(i) => &self.species[i].name,
            Var::Let(i) => &self.lets[i].name,
            Var::Local(i) => &self.locals[i].name,
        }
    }
}
