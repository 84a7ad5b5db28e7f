//! Types and shapes of the typed model.

use std::fmt;

/// The element type of a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Scalar {
    Bool,
    /// ±1, for spin systems. Behaves as `int` in arithmetic.
    Spin,
    Int,
    Real,
    /// The type of an expression that already failed to check; absorbs further errors.
    Error,
}

impl Scalar {
    pub fn is_numeric(self) -> bool {
        matches!(
            self,
            Scalar::Spin | Scalar::Int | Scalar::Real | Scalar::Error
        )
    }

    pub fn is_integer(self) -> bool {
        matches!(self, Scalar::Spin | Scalar::Int | Scalar::Error)
    }

    /// Whether a value of type `self` may be stored where `target` is expected.
    pub fn fits(self, target: Scalar) -> bool {
        self == Scalar::Error
            || target == Scalar::Error
            || self == target
            || (target == Scalar::Real && self.is_integer())
            || (target == Scalar::Int && self == Scalar::Spin)
    }

    pub fn name(self) -> &'static str {
        match self {
            Scalar::Bool => "bool",
            Scalar::Spin => "spin",
            Scalar::Int => "int",
            Scalar::Real => "real",
            Scalar::Error => "{unknown}",
        }
    }
}

/// The length of one array dimension.
#[derive(Clone, Debug)]
pub enum Dim {
    Fixed(u64),
    /// Known once data is bound: an integer expression over constants and `data` values.
    Data(DataSize),
}

/// A size that depends on data, e.g. `J` or `2 * T`. Two such sizes are the same when they
/// are written the same way.
#[derive(Clone, Debug)]
pub struct DataSize {
    /// The expression as printed (`2 * T`): the identity used to compare shapes.
    pub text: String,
    /// The typed expression, to evaluate once data is bound.
    pub expr: Box<super::model::TExpr>,
}

impl PartialEq for Dim {
    fn eq(&self, other: &Dim) -> bool {
        match (self, other) {
            (Dim::Fixed(a), Dim::Fixed(b)) => a == b,
            (Dim::Data(a), Dim::Data(b)) => a.text == b.text,
            _ => false,
        }
    }
}

impl Eq for Dim {}

impl std::hash::Hash for Dim {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        match self {
            Dim::Fixed(n) => n.hash(state),
            Dim::Data(d) => d.text.hash(state),
        }
    }
}

impl fmt::Display for Dim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dim::Fixed(n) => write!(f, "{n}"),
            Dim::Data(d) => f.write_str(&d.text),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Type {
    pub scalar: Scalar,
    /// Empty for scalars.
    pub dims: Vec<Dim>,
}

impl Type {
    pub const fn scalar(scalar: Scalar) -> Type {
        Type {
            scalar,
            dims: Vec::new(),
        }
    }
    pub const REAL: Type = Type::scalar(Scalar::Real);
    pub const INT: Type = Type::scalar(Scalar::Int);
    pub const BOOL: Type = Type::scalar(Scalar::Bool);
    pub const ERROR: Type = Type::scalar(Scalar::Error);

    pub fn array(scalar: Scalar, dims: Vec<Dim>) -> Type {
        Type { scalar, dims }
    }

    pub fn is_error(&self) -> bool {
        self.scalar == Scalar::Error
    }

    pub fn is_scalar(&self) -> bool {
        self.dims.is_empty()
    }

    pub fn rank(&self) -> usize {
        self.dims.len()
    }

    pub fn with_scalar(&self, scalar: Scalar) -> Type {
        Type {
            scalar,
            dims: self.dims.clone(),
        }
    }

    /// Number of elements when every dimension is fixed.
    pub fn fixed_len(&self) -> Option<u64> {
        self.dims.iter().try_fold(1u64, |acc, d| match d {
            Dim::Fixed(n) => acc.checked_mul(*n),
            Dim::Data(_) => None,
        })
    }
}

impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.scalar.name())?;
        if !self.dims.is_empty() {
            let d: Vec<String> = self.dims.iter().map(|d| d.to_string()).collect();
            write!(f, "[{}]", d.join(", "))?;
        }
        Ok(())
    }
}

/// The shape two operands broadcast to: equal shapes, or a scalar against anything.
pub fn broadcast(a: &[Dim], b: &[Dim]) -> Option<Vec<Dim>> {
    if a.is_empty() {
        Some(b.to_vec())
    } else if b.is_empty() || a == b {
        Some(a.to_vec())
    } else {
        None
    }
}

/// The element type of arithmetic on `a` and `b` (`+ - *`), or `None` if not numeric.
pub fn arithmetic(a: Scalar, b: Scalar) -> Option<Scalar> {
    use Scalar::*;
    Some(match (a, b) {
        (Error, _) | (_, Error) => Error,
        (Bool, _) | (_, Bool) => return None,
        (Real, _) | (_, Real) => Real,
        _ => Int,
    })
}

/// A compile-time value (constants, folded sizes).
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Bool(bool),
    Int(i64),
    Real(f64),
    Array(Vec<Value>),
}

impl Value {
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Int(v) => Some(*v as f64),
            Value::Real(v) => Some(*v),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Value::Int(v) => Some(*v),
            _ => None,
        }
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Bool(b) => write!(f, "{b}"),
            Value::Int(v) => write!(f, "{v}"),
            Value::Real(v) => write!(f, "{v:?}"),
            Value::Array(items) => {
                let s: Vec<String> = items.iter().map(|v| v.to_string()).collect();
                write!(f, "[{}]", s.join(", "))
            }
        }
    }
}
