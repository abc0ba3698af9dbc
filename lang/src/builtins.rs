//! The standard-library table: every built-in function the checker knows.
//!
//! One row per function: qualified name (`List.map`, or a bare name such as
//! `println` for functions in scope everywhere), a type signature written in
//! Mesh type syntax (lowercase names are type variables), and an optional
//! [`Special`] rule for the few functions a plain signature cannot describe
//! (the variadic `spawn` family). The row's position is its [`BuiltinId`]:
//! the table is append-only, so ids are stable and a VM can index its
//! implementations by them.
//!
//! Return conventions (see LANGUAGE.md): calls that can fail return
//! `Result<_, String>` (`Node.start`, `Node.connect`, `Global.register`, ...);
//! `Global.whereis`/`Process.whereis` return a `Pid` as in the seed programs
//! (an unregistered name yields a pid to which sends are dropped); `Map.get`
//! and `List.head` return the value itself and raise at runtime when it is
//! missing, as upstream does.

use crate::ast::{TypeExpr, TypeExprKind};
use crate::types::{Scheme, TyVar, Type, TypeId};
use std::collections::HashMap;
use std::sync::OnceLock;

/// Index of a row of [`BUILTINS`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct BuiltinId(pub u16);

/// Checking rules beyond a signature.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Special {
    /// `f(fixed..., fun, args...)`: argument `fun_index` is a function (or
    /// an actor) applied by the new process to the remaining arguments.
    /// Returns a `Pid`. The signature lists the fixed arguments only.
    Spawn { fun_index: usize },
}

/// One built-in function.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Builtin {
    /// Qualified name as written in source (`String.length`, `println`).
    pub name: &'static str,
    /// `Fun(params) -> ret` in Mesh type syntax.
    pub signature: &'static str,
    pub special: Option<Special>,
}

const fn f(name: &'static str, signature: &'static str) -> Builtin {
    Builtin {
        name,
        signature,
        special: None,
    }
}

const fn spawn(name: &'static str, signature: &'static str, fun_index: usize) -> Builtin {
    Builtin {
        name,
        signature,
        special: Some(Special::Spawn { fun_index }),
    }
}

/// The table. Append only: a row's index is its stable id.
pub static BUILTINS: &[Builtin] = &[
    // 0: processes (bare names)
    f("println", "Fun(String) -> ()"),
    f("print", "Fun(String) -> ()"),
    spawn("spawn", "Fun() -> Pid", 0),
    spawn("spawn_link", "Fun() -> Pid", 0),
    f("send", "Fun(Pid, a) -> ()"),
    f("self", "Fun() -> Pid"),
    f("link", "Fun(Pid) -> ()"),
    // 7: IO
    f("IO.puts", "Fun(String) -> ()"),
    f("IO.println", "Fun(String) -> ()"),
    f("IO.print", "Fun(String) -> ()"),
    f("IO.eprintln", "Fun(String) -> ()"),
    f("IO.read_line", "Fun() -> Result<String, String>"),
    // 12: String
    f("String.length", "Fun(String) -> Int"),
    f("String.split", "Fun(String, String) -> List<String>"),
    f("String.join", "Fun(List<String>, String) -> String"),
    f("String.trim", "Fun(String) -> String"),
    f("String.contains", "Fun(String, String) -> Bool"),
    f("String.starts_with", "Fun(String, String) -> Bool"),
    f("String.ends_with", "Fun(String, String) -> Bool"),
    f("String.replace", "Fun(String, String, String) -> String"),
    f("String.upcase", "Fun(String) -> String"),
    f("String.downcase", "Fun(String) -> String"),
    f("String.to_int", "Fun(String) -> Option<Int>"),
    f("String.to_float", "Fun(String) -> Option<Float>"),
    f("String.from", "Fun(a) -> String"),
    f("String.slice", "Fun(String, Int, Int) -> String"),
    f("String.chars", "Fun(String) -> List<String>"),
    f("String.is_empty", "Fun(String) -> Bool"),
    // 28: Int / Float
    f("Int.to_string", "Fun(Int) -> String"),
    f("Int.to_float", "Fun(Int) -> Float"),
    f("Int.parse", "Fun(String) -> Option<Int>"),
    f("Int.abs", "Fun(Int) -> Int"),
    f("Int.min", "Fun(Int, Int) -> Int"),
    f("Int.max", "Fun(Int, Int) -> Int"),
    f("Float.from", "Fun(Int) -> Float"),
    f("Float.to_int", "Fun(Float) -> Int"),
    f("Float.round", "Fun(Float) -> Int"),
    f("Float.floor", "Fun(Float) -> Int"),
    f("Float.ceil", "Fun(Float) -> Int"),
    f("Float.to_string", "Fun(Float) -> String"),
    f("Float.parse", "Fun(String) -> Option<Float>"),
    f("Float.sqrt", "Fun(Float) -> Float"),
    // 42: List
    f("List.new", "Fun() -> List<a>"),
    f("List.length", "Fun(List<a>) -> Int"),
    f("List.map", "Fun(List<a>, Fun(a) -> b) -> List<b>"),
    f("List.filter", "Fun(List<a>, Fun(a) -> Bool) -> List<a>"),
    f("List.reduce", "Fun(List<a>, b, Fun(b, a) -> b) -> b"),
    f("List.fold", "Fun(List<a>, b, Fun(b, a) -> b) -> b"),
    f("List.each", "Fun(List<a>, Fun(a) -> b) -> ()"),
    f("List.head", "Fun(List<a>) -> a"),
    f("List.tail", "Fun(List<a>) -> List<a>"),
    f("List.get", "Fun(List<a>, Int) -> a"),
    f("List.append", "Fun(List<a>, a) -> List<a>"),
    f("List.concat", "Fun(List<a>, List<a>) -> List<a>"),
    f("List.reverse", "Fun(List<a>) -> List<a>"),
    f("List.sort", "Fun(List<a>) -> List<a>"),
    f("List.zip", "Fun(List<a>, List<b>) -> List<(a, b)>"),
    f("List.enumerate", "Fun(List<a>) -> List<(Int, a)>"),
    f("List.find", "Fun(List<a>, Fun(a) -> Bool) -> Option<a>"),
    f("List.any", "Fun(List<a>, Fun(a) -> Bool) -> Bool"),
    f("List.all", "Fun(List<a>, Fun(a) -> Bool) -> Bool"),
    f("List.take", "Fun(List<a>, Int) -> List<a>"),
    f("List.drop", "Fun(List<a>, Int) -> List<a>"),
    f("List.contains", "Fun(List<a>, a) -> Bool"),
    f(
        "List.flat_map",
        "Fun(List<a>, Fun(a) -> List<b>) -> List<b>",
    ),
    f("List.sum", "Fun(List<Int>) -> Int"),
    f("List.range", "Fun(Int, Int) -> List<Int>"),
    f("List.is_empty", "Fun(List<a>) -> Bool"),
    // 68: Map
    f("Map.new", "Fun() -> Map<k, v>"),
    f("Map.put", "Fun(Map<k, v>, k, v) -> Map<k, v>"),
    f("Map.get", "Fun(Map<k, v>, k) -> v"),
    f("Map.find", "Fun(Map<k, v>, k) -> Option<v>"),
    f("Map.has_key", "Fun(Map<k, v>, k) -> Bool"),
    f("Map.delete", "Fun(Map<k, v>, k) -> Map<k, v>"),
    f("Map.keys", "Fun(Map<k, v>) -> List<k>"),
    f("Map.values", "Fun(Map<k, v>) -> List<v>"),
    f("Map.size", "Fun(Map<k, v>) -> Int"),
    f("Map.to_list", "Fun(Map<k, v>) -> List<(k, v)>"),
    f("Map.from_list", "Fun(List<(k, v)>) -> Map<k, v>"),
    f("Map.merge", "Fun(Map<k, v>, Map<k, v>) -> Map<k, v>"),
    // 80: Set
    f("Set.new", "Fun() -> Set<a>"),
    f("Set.put", "Fun(Set<a>, a) -> Set<a>"),
    f("Set.contains", "Fun(Set<a>, a) -> Bool"),
    f("Set.delete", "Fun(Set<a>, a) -> Set<a>"),
    f("Set.size", "Fun(Set<a>) -> Int"),
    f("Set.to_list", "Fun(Set<a>) -> List<a>"),
    f("Set.from_list", "Fun(List<a>) -> Set<a>"),
    f("Set.union", "Fun(Set<a>, Set<a>) -> Set<a>"),
    f("Set.intersection", "Fun(Set<a>, Set<a>) -> Set<a>"),
    f("Set.difference", "Fun(Set<a>, Set<a>) -> Set<a>"),
    // 90: Option / Result
    f("Option.unwrap_or", "Fun(Option<a>, a) -> a"),
    f("Option.map", "Fun(Option<a>, Fun(a) -> b) -> Option<b>"),
    f("Option.is_some", "Fun(Option<a>) -> Bool"),
    f("Option.is_none", "Fun(Option<a>) -> Bool"),
    f("Option.unwrap", "Fun(Option<a>) -> a"),
    f("Result.unwrap_or", "Fun(Result<a, e>, a) -> a"),
    f(
        "Result.map",
        "Fun(Result<a, e>, Fun(a) -> b) -> Result<b, e>",
    ),
    f(
        "Result.map_err",
        "Fun(Result<a, e>, Fun(e) -> f) -> Result<a, f>",
    ),
    f("Result.is_ok", "Fun(Result<a, e>) -> Bool"),
    f("Result.is_err", "Fun(Result<a, e>) -> Bool"),
    f("Result.unwrap", "Fun(Result<a, e>) -> a"),
    // 101: Env
    f("Env.get", "Fun(String, String) -> String"),
    f("Env.get_int", "Fun(String, Int) -> Int"),
    f("Env.args", "Fun() -> List<String>"),
    // 104: Process / Timer
    f("Process.monitor", "Fun(Pid) -> Ref"),
    f("Process.demonitor", "Fun(Ref) -> ()"),
    f("Process.register", "Fun(String, Pid) -> Result<(), String>"),
    f("Process.whereis", "Fun(String) -> Pid"),
    f("Process.unregister", "Fun(String) -> ()"),
    f("Process.exit", "Fun(Pid, Atom) -> ()"),
    f("Process.trap_exit", "Fun(Bool) -> ()"),
    f("Process.is_alive", "Fun(Pid) -> Bool"),
    f("Timer.sleep", "Fun(Int) -> ()"),
    f("Timer.send_after", "Fun(Pid, Int, a) -> ()"),
    // 114: Node / Global
    f("Node.start", "Fun(String, String) -> Result<(), String>"),
    f(
        "Node.start_from_env",
        "Fun() -> Result<BootstrapStatus, String>",
    ),
    f("Node.connect", "Fun(String) -> Result<(), String>"),
    f("Node.self", "Fun() -> String"),
    f("Node.list", "Fun() -> List<String>"),
    spawn("Node.spawn", "Fun(String) -> Pid", 1),
    spawn("Node.spawn_link", "Fun(String) -> Pid", 1),
    f("Node.monitor", "Fun(String) -> ()"),
    f("Global.register", "Fun(String, Pid) -> Result<(), String>"),
    f("Global.whereis", "Fun(String) -> Pid"),
    f("Global.unregister", "Fun(String) -> ()"),
    // 125: MeshTest: assertions of `*.test.mpl` files (see `testing`)
    f("MeshTest.assert", "Fun(Bool, String) -> ()"),
    f("MeshTest.assert_eq", "Fun(a, a) -> ()"),
    f("MeshTest.assert_ne", "Fun(a, a) -> ()"),
    f("MeshTest.fail", "Fun(String) -> a"),
    // 129: internal rows the compiler emits (a `$` name cannot be written
    // in source). Services: `(pid, handler, ["Service.op",] args...)`; see
    // `stdlib/process.rs` for the protocol.
    f("$service_call", "Fun(Pid, Int) -> Ref"),
    f("$service_await", "Fun(Ref, String) -> a"),
    f("$service_cast", "Fun(Pid, Int) -> ()"),
    // A supervisor value from its constant description.
    f("$supervisor", "Fun(a) -> b"),
    // `Process.is_alive` as a probe and its answer.
    f("$alive_probe", "Fun(Pid) -> a"),
    f("$alive_await", "Fun(a) -> Bool"),
    // Upstream's names for rows above (programs written for upstream run
    // unchanged): `Set.add`/`remove` are `put`/`delete`, `to_upper`/
    // `to_lower` are `upcase`/`downcase`, `List.nth` is `List.get`.
    f("Set.add", "Fun(Set<a>, a) -> Set<a>"),
    f("Set.remove", "Fun(Set<a>, a) -> Set<a>"),
    f("String.to_upper", "Fun(String) -> String"),
    f("String.to_lower", "Fun(String) -> String"),
    f("List.nth", "Fun(List<a>, Int) -> a"),
    f("List.last", "Fun(List<a>) -> a"),
    f("List.flatten", "Fun(List<List<a>>) -> List<a>"),
    // `List.sort(xs, cmp)` (upstream's comparator form: negative, zero or
    // positive `Int`); the checker picks this row for two arguments.
    f(
        "List.sort_with",
        "Fun(List<a>, Fun(a, a) -> Int) -> List<a>",
    ),
    // Math (upstream's module): `abs`/`min`/`max` take Int or Float (the
    // checker adds the numeric constraint), the rest Float.
    f("Math.abs", "Fun(a) -> a"),
    f("Math.min", "Fun(a, a) -> a"),
    f("Math.max", "Fun(a, a) -> a"),
    f("Math.pow", "Fun(Float, Float) -> Float"),
    f("Math.sqrt", "Fun(Float) -> Float"),
    f("Math.floor", "Fun(Float) -> Int"),
    f("Math.ceil", "Fun(Float) -> Int"),
    f("Math.round", "Fun(Float) -> Int"),
];

/// Modules whose functions are built in.
pub const BUILTIN_MODULES: &[&str] = &[
    "IO", "String", "Int", "Float", "List", "Map", "Set", "Option", "Result", "Env", "Process",
    "Timer", "Node", "Global", "MeshTest", "Math",
];

impl BuiltinId {
    /// The row.
    pub fn get(self) -> &'static Builtin {
        &BUILTINS[usize::from(self.0).min(BUILTINS.len() - 1)]
    }
}

/// The id of the builtin called `name` (qualified as written).
pub fn lookup(name: &str) -> Option<BuiltinId> {
    static INDEX: OnceLock<HashMap<&'static str, BuiltinId>> = OnceLock::new();
    INDEX
        .get_or_init(|| {
            BUILTINS
                .iter()
                .enumerate()
                .map(|(i, b)| (b.name, BuiltinId(u16::try_from(i).unwrap_or(u16::MAX))))
                .collect()
        })
        .get(name)
        .copied()
}

/// Signature parse failures (a bug in the table, caught by tests).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("builtin `{name}`: signature `{signature}` does not parse")]
    Syntax {
        name: &'static str,
        signature: &'static str,
    },
    #[error("builtin `{name}`: unknown type `{ty}` in signature")]
    UnknownType { name: &'static str, ty: String },
}

impl Builtin {
    /// Number of fixed parameters.
    pub fn arity(&self) -> usize {
        match self.scheme() {
            Ok(Scheme {
                ty: Type::Fun(ps, _),
                ..
            }) => ps.len(),
            _ => 0,
        }
    }

    /// The type scheme of the signature (a `Type::Fun`).
    pub fn scheme(&self) -> Result<Scheme, SignatureError> {
        let (te, diags) = crate::parser::parse_type(crate::source::FileId(0), self.signature);
        let te = match te {
            Some(t) if diags.is_empty() => t,
            _ => {
                return Err(SignatureError::Syntax {
                    name: self.name,
                    signature: self.signature,
                });
            }
        };
        let mut vars = HashMap::new();
        let ty = self.convert(&te, &mut vars)?;
        let mut vs: Vec<TyVar> = vars.into_values().collect();
        vs.sort_unstable();
        Ok(Scheme { vars: vs, ty })
    }

    fn convert(
        &self,
        te: &TypeExpr,
        vars: &mut HashMap<String, TyVar>,
    ) -> Result<Type, SignatureError> {
        let unknown = |ty: String| SignatureError::UnknownType {
            name: self.name,
            ty,
        };
        Ok(match &te.kind {
            TypeExprKind::Tuple(ts) => Type::Tuple(
                ts.iter()
                    .map(|t| self.convert(t, vars))
                    .collect::<Result<_, _>>()?,
            ),
            TypeExprKind::Fun { params, ret } => Type::Fun(
                params
                    .iter()
                    .map(|t| self.convert(t, vars))
                    .collect::<Result<_, _>>()?,
                Box::new(self.convert(ret, vars)?),
            ),
            TypeExprKind::Option(t) => Type::option(self.convert(t, vars)?),
            TypeExprKind::Result(t, e) => {
                Type::result(self.convert(t, vars)?, self.convert(e, vars)?)
            }
            TypeExprKind::Error => return Err(unknown("<error>".into())),
            TypeExprKind::Named { path, args } => {
                let name = path.dotted();
                let args: Vec<Type> = args
                    .iter()
                    .map(|t| self.convert(t, vars))
                    .collect::<Result<_, _>>()?;
                let arg = |i: usize| args.get(i).cloned().ok_or_else(|| unknown(name.clone()));
                match name.as_str() {
                    "Int" => Type::Int,
                    "Float" => Type::Float,
                    "String" => Type::String,
                    "Bool" => Type::Bool,
                    "Atom" => Type::Atom,
                    "Pid" => Type::Pid,
                    "Ref" => Type::Ref,
                    "BootstrapStatus" => Type::Named(TypeId::BOOTSTRAP_STATUS, vec![]),
                    "List" => Type::list(arg(0)?),
                    "Set" => Type::Set(Box::new(arg(0)?)),
                    "Map" => Type::Map(Box::new(arg(0)?), Box::new(arg(1)?)),
                    "Option" => Type::option(arg(0)?),
                    "Result" => Type::result(arg(0)?, arg(1)?),
                    v if v.len() == 1 && v.starts_with(|c: char| c.is_ascii_lowercase()) => {
                        let next = u32::try_from(vars.len()).unwrap_or(0);
                        Type::Var(*vars.entry(v.to_string()).or_insert(next))
                    }
                    _ => return Err(unknown(name)),
                }
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_signature_parses_to_a_function_type() {
        for b in BUILTINS {
            let s = b.scheme().unwrap_or_else(|e| panic!("{e}"));
            assert!(matches!(s.ty, Type::Fun(..)), "{}", b.name);
        }
    }

    #[test]
    fn names_are_unique_and_ids_are_positions() {
        for (i, b) in BUILTINS.iter().enumerate() {
            assert_eq!(lookup(b.name), Some(BuiltinId(i as u16)), "{}", b.name);
        }
        assert_eq!(lookup("No.such"), None);
    }

    #[test]
    fn ids_are_stable() {
        // Appending is fine; moving a row breaks compiled programs.
        assert_eq!(lookup("println"), Some(BuiltinId(0)));
        assert_eq!(lookup("IO.puts"), Some(BuiltinId(7)));
        assert_eq!(lookup("String.length"), Some(BuiltinId(12)));
        assert_eq!(lookup("Int.to_string"), Some(BuiltinId(28)));
        assert_eq!(lookup("List.new"), Some(BuiltinId(42)));
        assert_eq!(lookup("Map.new"), Some(BuiltinId(68)));
        assert_eq!(lookup("Set.new"), Some(BuiltinId(80)));
        assert_eq!(lookup("Option.unwrap_or"), Some(BuiltinId(90)));
        assert_eq!(lookup("Env.get"), Some(BuiltinId(101)));
        assert_eq!(lookup("Process.monitor"), Some(BuiltinId(104)));
        assert_eq!(lookup("Node.start"), Some(BuiltinId(114)));
    }

    #[test]
    fn schemes_quantify_their_variables() {
        let id = lookup("List.map").unwrap();
        let s = id.get().scheme().unwrap();
        assert_eq!(s.vars.len(), 2);
        assert_eq!(id.get().arity(), 2);
        let s = lookup("Node.start_from_env")
            .unwrap()
            .get()
            .scheme()
            .unwrap();
        assert_eq!(
            s.ty,
            Type::Fun(
                vec![],
                Box::new(Type::result(
                    Type::Named(TypeId::BOOTSTRAP_STATUS, vec![]),
                    Type::String
                ))
            )
        );
    }

    #[test]
    fn every_module_prefix_is_a_builtin_module() {
        for b in BUILTINS {
            if let Some((m, _)) = b.name.split_once('.') {
                assert!(BUILTIN_MODULES.contains(&m), "{}", b.name);
            }
        }
    }
}
