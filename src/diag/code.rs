//! Stable diagnostic codes. Every code is listed in `docs/errors.md`, and every code has an
//! invalid (or, for warnings, suspicious) example under `tests/diagnostics/` whose rendering
//! is snapshot-tested. Codes are never renumbered; retired codes are not reused.

macro_rules! codes {
    ($($variant:ident = $code:literal, $summary:literal;)*) => {
        /// A stable diagnostic code (`E0101`, `W0001`, ...).
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant,)* }

        impl Code {
            /// Every code, in documentation order.
            pub const ALL: &'static [Code] = &[$(Code::$variant,)*];

            /// The code as printed: `E0101`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }

            /// One line saying what the code means (used by `docs/errors.md`).
            pub fn summary(self) -> &'static str {
                match self { $(Code::$variant => $summary,)* }
            }
        }
    };
}

codes! {
    // Input and syntax
    Syntax = "E0001", "the text does not follow the grammar";
    TooDeep = "E0002", "brackets, `if`s or operators are nested too deeply";
    FileTooLarge = "E0003", "the file is larger than the 4 MiB limit";
    NotUtf8 = "E0004", "the file is not valid UTF-8";
    EmptyFile = "E0005", "the file contains no model or function";
    CannotRead = "E0006", "the file is missing, a directory, or unreadable";
    UnknownModel = "E0007", "`--model` names no model of the file";
    BadNumber = "E0008", "a number literal does not fit (64-bit integer, finite real)";
    ImportNotFound = "E0009", "an imported file or stdlib module does not exist";
    ImportCycle = "E0010", "files import each other in a cycle";
    // Names
    UnknownName = "E0101", "a name is used that is not declared";
    Duplicate = "E0102", "a name (or model, function, reaction) is declared twice";
    Reserved = "E0103", "a declaration uses a reserved name (`t`, `dt`, `pi`)";
    UnknownFunction = "E0104", "a call names no built-in or declared function";
    UnknownDistribution = "E0105", "a `~` names no known distribution";
    Arity = "E0106", "a function or distribution gets the wrong number of arguments";
    UnknownType = "E0107", "a type is not `real`, `int`, `bool` or `spin`";
    DifferentialClash = "E0108", "a declared name looks like the differential of a noise";
    Cycle = "E0109", "constants or `let`s are defined in terms of each other";
    RecursiveFunction = "E0110", "a function calls itself (functions are inlined)";
    // Types and shapes
    TypeMismatch = "E0201", "a value has the wrong type";
    ShapeMismatch = "E0202", "array shapes do not match in an element-wise operation";
    NotBool = "E0203", "a condition is not a `bool`";
    BadIndex = "E0204", "indexing a scalar, too many indices, or a non-integer index";
    IndexOutOfRange = "E0205", "a constant index lies outside the array";
    NotConstant = "E0206", "a size, range or constant is not known at compile time";
    BadConstraint = "E0207", "a `<lower=…, upper=…>` constraint is malformed";
    ChainedComparison = "E0208", "comparisons are chained (`a < b < c`)";
    BadReduction = "E0209", "a reduction names an unknown operation or a non-array";
    BadArrayLiteral = "E0210", "array literal elements differ in type or shape";
    ConstEval = "E0211", "a constant expression cannot be evaluated (division by zero, overflow), or an array is too large";
    NoInitialValue = "E0212", "a state has no initial value";
    // Dynamics
    NotAState = "E0301", "`dx = …` names something that is not a continuous state";
    DuplicateEquation = "E0302", "a state (or state element) has two equations";
    NoDifferential = "E0303", "a term of an equation has no `dt` or `dW`";
    NonlinearDifferential = "E0304", "an equation is not linear in `dt` and `dW`";
    DifferentialOutsideEquation = "E0305", "`dt` or `dW` appears outside an equation";
    NoiseIndex = "E0306", "a noise index is missing, superfluous or out of range";
    UnknownNoise = "E0307", "`dW1` names no declared noise";
    BadEquationIndex = "E0308", "an equation's left-side index is not a loop variable or constant, or a loop variable is unused";
    UnknownCalculus = "E0309", "`calculus` is not `ito` or `stratonovich`";
    NotADifferential = "E0310", "implicit multiplication by something that is not a differential";
    BadBoundary = "E0311", "a state boundary is unknown or lacks the bound it needs";
    // Reactions
    NotASpecies = "E0401", "a reaction changes something that is not a species";
    BadStoichiometry = "E0402", "a stoichiometric coefficient is not a non-negative integer";
    RateCount = "E0403", "a reaction has the wrong number of rates for its arrow";
    BadSpeciesInit = "E0404", "a species' initial count is not a non-negative integer";
    // Jumps and events
    BadAssignment = "E0501", "a jump or event assigns to something it may not change";
    BadTimeEvent = "E0502", "an `at` event is not of the form `at t = …`";
    // Probability
    BadTilde = "E0601", "`~` is applied to something that is not a parameter, data or obs";
    BadDistributionArg = "E0602", "a distribution argument has the wrong type or shape";
    Support = "E0603", "a variable's type does not fit the distribution's support";
    DuplicatePrior = "E0604", "a parameter gets two priors";
    ObsWithoutDynamics = "E0605", "`obs` is used in a model without dynamics";
    DataDependsOnState = "E0606", "a likelihood of `data` depends on the latent state";
    // Models
    EmptyModel = "E0701", "a model has no dynamics, distributions or target";
    // Compilation
    Unsupported = "E0801", "a construct that checks but cannot be compiled into kernels yet";
    // Warnings
    UnusedParam = "W0001", "a parameter is never used";
    StateWithoutDynamics = "W0002", "a state (or some of its elements) never changes";
    UntouchedSpecies = "W0003", "a species is changed by no reaction, jump or event";
    Unused = "W0004", "a constant, `let`, noise or data value is never used";
    NoNetEffect = "W0005", "a reaction changes nothing";
    ZeroCoefficient = "W0006", "a stoichiometric coefficient is 0";
    UnobservedObs = "W0007", "an `obs` is declared but has no observation model";
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Code {
    pub fn is_warning(self) -> bool {
        self.as_str().starts_with('W')
    }

    /// Warnings about names or states that nothing uses or changes. Shown only when there are
    /// no errors: a statement that failed to check leaves what it uses looking unused.
    pub fn is_usage_warning(self) -> bool {
        matches!(
            self,
            Code::UnusedParam
                | Code::StateWithoutDynamics
                | Code::UntouchedSpecies
                | Code::Unused
                | Code::UnobservedObs
        )
    }
}
