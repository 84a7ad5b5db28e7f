//! The abstract syntax tree. Every node carries the span of source text it came from.
//! The tree says what was written; meaning (names, types, shapes) is the checker's job.

use crate::source::{FileId, Span};

#[derive(Clone, Debug, PartialEq)]
pub struct Ident {
    pub name: String,
    pub span: Span,
}

/// A possibly module-qualified name: `hill` or `rates.hill`.
#[derive(Clone, Debug, PartialEq)]
pub struct QualName {
    pub module: Option<Ident>,
    pub name: Ident,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct File {
    pub file: FileId,
    pub items: Vec<Item>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    Import(Import),
    Function(Box<Function>),
    Model(Model),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Import {
    pub path: String,
    pub path_span: Span,
    pub alias: Option<Ident>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Function {
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<FnParam>,
    pub ret: Option<TypeExpr>,
    /// `let`s of a block body, in order.
    pub lets: Vec<LocalLet>,
    pub body: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct FnParam {
    pub name: Ident,
    pub ty: TypeExpr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct LocalLet {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
    pub value: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Model {
    pub doc: Option<String>,
    pub name: Ident,
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Stmt {
    pub doc: Option<String>,
    pub kind: StmtKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum StmtKind {
    Const {
        name: Ident,
        ty: Option<TypeExpr>,
        value: Expr,
    },
    Param {
        name: Ident,
        ty: Option<TypeExpr>,
        default: Option<Expr>,
        prior: Option<Distribution>,
    },
    Data {
        name: Ident,
        ty: TypeExpr,
    },
    Obs {
        name: Ident,
        ty: TypeExpr,
    },
    State {
        name: Ident,
        ty: Option<TypeExpr>,
        boundary: Option<Ident>,
        init: Option<StateInit>,
    },
    Species(Vec<SpeciesItem>),
    Noise(Vec<NoiseItem>),
    Let {
        output: bool,
        name: Ident,
        ty: Option<TypeExpr>,
        value: Expr,
    },
    Calculus(Ident),
    /// A `reactions { … }` block, or a single `reaction` statement.
    Reactions(Vec<Reaction>),
    Jump(Jump),
    /// `at t = e { … }`; `var` is what stands where `t` should.
    At {
        var: Ident,
        time: Expr,
        body: Vec<BodyStmt>,
    },
    When {
        cond: Expr,
        body: Vec<BodyStmt>,
    },
    Potential {
        name: Ident,
        value: Expr,
    },
    Energy {
        name: Ident,
        value: Expr,
    },
    /// `dx = … for i in …`; the target still carries its `d`.
    Equation {
        target: LValue,
        rhs: Expr,
        binders: Vec<Binder>,
    },
    Tilde {
        target: LValue,
        dist: Distribution,
        binders: Vec<Binder>,
    },
    /// A statement that did not parse (already reported). `names` are what it seemed to
    /// declare, so that their uses elsewhere do not cause follow-on errors.
    Error {
        names: Vec<Ident>,
    },
}

impl StmtKind {
    /// The names this statement declares (a species or noise list declares several).
    pub fn declared_names(&self) -> Vec<&Ident> {
        match self {
            StmtKind::Const { name, .. }
            | StmtKind::Param { name, .. }
            | StmtKind::Data { name, .. }
            | StmtKind::Obs { name, .. }
            | StmtKind::State { name, .. }
            | StmtKind::Let { name, .. }
            | StmtKind::Potential { name, .. }
            | StmtKind::Energy { name, .. } => vec![name],
            StmtKind::Species(items) => items.iter().map(|i| &i.name).collect(),
            StmtKind::Noise(items) => items.iter().map(|i| &i.name).collect(),
            StmtKind::Error { names } => names.iter().collect(),
            _ => Vec::new(),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum StateInit {
    Value(Expr),
    Random(Distribution),
}

#[derive(Clone, Debug, PartialEq)]
pub struct SpeciesItem {
    pub name: Ident,
    pub init: Option<Expr>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct NoiseItem {
    pub name: Ident,
    pub ty: Option<TypeExpr>,
}

/// `real<lower=0>[N, M]`
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    pub base: Ident,
    pub constraints: Vec<Constraint>,
    pub dims: Vec<Expr>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Constraint {
    pub name: Ident,
    pub value: Expr,
}

/// A name with optional indices on the left of `=`, `~` or an assignment.
#[derive(Clone, Debug, PartialEq)]
pub struct LValue {
    pub name: Ident,
    pub indices: Vec<Expr>,
    pub span: Span,
}

/// `i in lo..hi` (inclusive).
#[derive(Clone, Debug, PartialEq)]
pub struct Binder {
    pub var: Ident,
    pub lo: Expr,
    pub hi: Expr,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Distribution {
    pub name: QualName,
    pub args: Vec<Expr>,
    pub span: Span,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Arrow {
    /// `->`: mass action with rate constant.
    MassAction,
    /// `=>`: the rate is the whole propensity.
    Propensity,
    /// `<->`
    ReversibleMassAction,
    /// `<=>`
    ReversiblePropensity,
}

impl Arrow {
    pub fn is_reversible(self) -> bool {
        matches!(
            self,
            Arrow::ReversibleMassAction | Arrow::ReversiblePropensity
        )
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Arrow::MassAction => "->",
            Arrow::Propensity => "=>",
            Arrow::ReversibleMassAction => "<->",
            Arrow::ReversiblePropensity => "<=>",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Reaction {
    pub label: Option<Ident>,
    pub reactants: Complex,
    pub arrow: Arrow,
    pub arrow_span: Span,
    pub products: Complex,
    pub rates: Vec<Expr>,
    pub span: Span,
}

/// A sum of species with coefficients; no terms means the empty complex `0` / `∅`.
#[derive(Clone, Debug, PartialEq)]
pub struct Complex {
    pub terms: Vec<ComplexTerm>,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct ComplexTerm {
    /// The coefficient as written (checked later to be a non-negative integer).
    pub coeff: Option<(String, Span)>,
    pub species: Ident,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Jump {
    pub name: Ident,
    pub binders: Vec<Binder>,
    pub rate: Expr,
    pub body: Vec<BodyStmt>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct BodyStmt {
    pub kind: BodyKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum BodyKind {
    /// `let J ~ Normal(0, 1)`: a random draw each time the jump or event fires.
    Draw {
        name: Ident,
        dist: Distribution,
    },
    Let(LocalLet),
    Assign {
        target: LValue,
        op: AssignOp,
        value: Expr,
    },
    /// Did not parse (already reported).
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AssignOp {
    Set,
    Add,
    Sub,
    Mul,
    Div,
}

impl AssignOp {
    pub fn as_str(self) -> &'static str {
        match self {
            AssignOp::Set => "=",
            AssignOp::Add => "+=",
            AssignOp::Sub => "-=",
            AssignOp::Mul => "*=",
            AssignOp::Div => "/=",
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    Int(i64),
    Real(f64),
    Bool(bool),
    Name(Ident),
    Unary {
        op: UnOp,
        operand: Box<Expr>,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
    Call {
        func: QualName,
        args: Vec<Expr>,
    },
    Index {
        base: Box<Expr>,
        indices: Vec<Expr>,
    },
    Array(Vec<Expr>),
    If {
        cond: Box<Expr>,
        then: Box<Expr>,
        otherwise: Box<Expr>,
    },
    /// `sum(i in 1..N, j in 1..M) body`
    Reduce {
        op: Ident,
        binders: Vec<Binder>,
        body: Box<Expr>,
    },
    /// Stands in for an expression that could not be built (already reported).
    Error,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
    /// `+x`: no effect on numbers, but still only for numbers.
    Plus,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Mod,
    Pow,
    /// Implicit multiplication by a differential on the same line: `sigma dW`.
    Juxtapose,
}

impl BinOp {
    pub fn as_str(self) -> &'static str {
        match self {
            BinOp::Or => "||",
            BinOp::And => "&&",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
            BinOp::Mod => "%",
            BinOp::Pow => "^",
            BinOp::Juxtapose => " ",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq | BinOp::Ne | BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge
        )
    }

    pub fn is_logical(self) -> bool {
        matches!(self, BinOp::Or | BinOp::And)
    }
}

impl Model {
    /// Models are found by name; `--model` picks one, the last one is the default.
    pub fn name(&self) -> &str {
        &self.name.name
    }
}

impl File {
    pub fn models(&self) -> impl Iterator<Item = &Model> {
        self.items.iter().filter_map(|i| match i {
            Item::Model(m) => Some(m),
            _ => None,
        })
    }

    pub fn functions(&self) -> impl Iterator<Item = &Function> {
        self.items.iter().filter_map(|i| match i {
            Item::Function(f) => Some(&**f),
            _ => None,
        })
    }

    pub fn imports(&self) -> impl Iterator<Item = &Import> {
        self.items.iter().filter_map(|i| match i {
            Item::Import(i) => Some(i),
            _ => None,
        })
    }
}
