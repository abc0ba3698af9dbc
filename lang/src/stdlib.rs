//! The standard library: one Rust function per row of
//! [`crate::builtins::BUILTINS`], dispatched through a table indexed by
//! `BuiltinId`.
//!
//! A library function gets its arguments as a mutable slice of registers
//! (it may take them by value), the program's [`Env`], and the process's
//! [`Cx`] when there is one (guards run without: a function that needs the
//! process fails there). It answers a value, [`Ret::Wait`] (run me again
//! when woken: `Timer.sleep`) or a native frame that calls back into Mesh
//! code (`List.map`).
//!
//! Spawning, `Process.is_alive` and the service protocol live in
//! [`process`], `Node` and `Global` in `node`.

pub(crate) mod process;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use mesh_core::{Atom, Cx, List, NodeId, Pid, Received, Term};

use crate::builtins::BUILTINS;
use crate::vm::native::{Kind, Native};
use crate::vm::{Env, Fault, SET_TAG, to_string};

mod node;

/// What a library call produced.
#[derive(Debug)]
pub(crate) enum Ret {
    Value(Term),
    /// Nothing to do until the process is woken: run the call again then.
    Wait,
    /// Continue as a native frame.
    Native(Native),
}

/// The arguments and context of one call.
pub(crate) struct Call<'a, 'c> {
    args: &'a mut [Term],
    env: &'a Arc<Env>,
    cx: Option<&'a mut Cx<'c>>,
    name: &'static str,
}

pub(crate) type Impl = for<'a, 'c> fn(&mut Call<'a, 'c>) -> Result<Ret, Fault>;

struct Names {
    option: Atom,
    some: Atom,
    none: Atom,
    result: Atom,
    ok: Atom,
    err: Atom,
}

static N: LazyLock<Names> = LazyLock::new(|| Names {
    option: Atom::new("Option"),
    some: Atom::new("Some"),
    none: Atom::new("None"),
    result: Atom::new("Result"),
    ok: Atom::new("Ok"),
    err: Atom::new("Err"),
});

fn some(v: Term) -> Term {
    Term::variant(N.option, N.some, vec![v])
}
fn none() -> Term {
    Term::variant(N.option, N.none, vec![])
}
fn ok(v: Term) -> Term {
    Term::variant(N.result, N.ok, vec![v])
}
fn err(v: Term) -> Term {
    Term::variant(N.result, N.err, vec![v])
}
fn opt(v: Option<Term>) -> Term {
    v.map_or_else(none, some)
}

fn val(t: impl Into<Term>) -> Result<Ret, Fault> {
    Ok(Ret::Value(t.into()))
}

impl<'c> Call<'_, 'c> {
    fn arg(&mut self, i: usize) -> Term {
        self.args
            .get_mut(i)
            .map_or(Term::Unit, |t| std::mem::replace(t, Term::Unit))
    }

    pub(crate) fn peek(&self, i: usize) -> &Term {
        static UNIT: Term = Term::Unit;
        self.args.get(i).unwrap_or(&UNIT)
    }

    fn type_err(&self, i: usize) -> Fault {
        Fault::Type {
            op: self.name,
            got: self.peek(i).kind_name(),
        }
    }

    fn int(&self, i: usize) -> Result<i64, Fault> {
        match self.peek(i) {
            Term::Int(v) => Ok(*v),
            _ => Err(self.type_err(i)),
        }
    }

    fn float(&self, i: usize) -> Result<f64, Fault> {
        match self.peek(i) {
            Term::Float(v) => Ok(*v),
            _ => Err(self.type_err(i)),
        }
    }

    fn str(&self, i: usize) -> Result<&str, Fault> {
        match self.peek(i) {
            Term::Str(s) => Ok(s),
            _ => Err(self.type_err(i)),
        }
    }

    fn list(&mut self, i: usize) -> Result<List, Fault> {
        match self.arg(i) {
            Term::List(l) => Ok(l),
            other => Err(Fault::Type {
                op: self.name,
                got: other.kind_name(),
            }),
        }
    }

    fn map(&mut self, i: usize) -> Result<Arc<BTreeMap<Term, Term>>, Fault> {
        match self.arg(i) {
            Term::Map(m) => Ok(m),
            other => Err(Fault::Type {
                op: self.name,
                got: other.kind_name(),
            }),
        }
    }

    /// The element map of a set.
    fn set(&mut self, i: usize) -> Result<Arc<BTreeMap<Term, Term>>, Fault> {
        match self.arg(i) {
            Term::Struct(s) if s.name == *SET_TAG => match s.fields.first() {
                Some(Term::Map(m)) => Ok(Arc::clone(m)),
                _ => Ok(Arc::new(BTreeMap::new())),
            },
            other => Err(Fault::Type {
                op: self.name,
                got: other.kind_name(),
            }),
        }
    }

    fn pid(&self, i: usize) -> Result<Pid, Fault> {
        match self.peek(i) {
            Term::Pid(p) => Ok(*p),
            _ => Err(self.type_err(i)),
        }
    }

    fn cx(&mut self) -> Result<&mut Cx<'c>, Fault> {
        let name = self.name;
        self.cx.as_deref_mut().ok_or(Fault::NotInGuard { name })
    }
}

fn set_term(m: BTreeMap<Term, Term>) -> Term {
    Term::structure(*SET_TAG, vec![Term::Map(Arc::new(m))])
}

/// Calls builtin `id` with `args`.
pub(crate) fn call(
    id: u16,
    args: &mut [Term],
    env: &Arc<Env>,
    cx: Option<&mut Cx<'_>>,
) -> Result<Ret, Fault> {
    let i = usize::from(id);
    let name = BUILTINS.get(i).map_or("?", |b| b.name);
    let Some(Some(f)) = TABLE.get(i) else {
        return Err(Fault::Unsupported { name });
    };
    let mut c = Call {
        args,
        env,
        cx,
        name,
    };
    f(&mut c)
}

fn set_insert(c: &mut Call<'_, '_>) -> Result<Ret, Fault> {
    let x = c.arg(1);
    let mut s = c.set(0)?;
    Arc::make_mut(&mut s).insert(x, Term::Unit);
    val(set_term(Arc::unwrap_or_clone(s)))
}

fn set_remove(c: &mut Call<'_, '_>) -> Result<Ret, Fault> {
    let x = c.arg(1);
    let mut s = c.set(0)?;
    Arc::make_mut(&mut s).remove(&x);
    val(set_term(Arc::unwrap_or_clone(s)))
}

fn list_get(c: &mut Call<'_, '_>) -> Result<Ret, Fault> {
    let i = c.arg(1);
    let l = c.arg(0);
    val(crate::vm::interp::index(&l, &i)?)
}

static TABLE: LazyLock<Vec<Option<Impl>>> = LazyLock::new(|| {
    let mut t: Vec<Option<Impl>> = vec![None; BUILTINS.len()];
    for (name, f) in IMPLS
        .iter()
        .chain(process::IMPLS)
        .chain(node::IMPLS)
        .chain(crate::testing::IMPLS)
    {
        if let Some(id) = crate::builtins::lookup(name) {
            t[usize::from(id.0)] = Some(*f);
        }
    }
    t
});

/// Every implemented builtin by name.
pub(crate) static IMPLS: &[(&str, Impl)] = &[
    ("println", |c| {
        let mut s = to_string(c.peek(0));
        s.push('\n');
        c.env.write_out(&s);
        val(())
    }),
    ("print", |c| {
        c.env.write_out(&to_string(c.peek(0)));
        val(())
    }),
    ("IO.puts", |c| {
        let mut s = to_string(c.peek(0));
        s.push('\n');
        c.env.write_out(&s);
        val(())
    }),
    ("IO.println", |c| {
        let mut s = to_string(c.peek(0));
        s.push('\n');
        c.env.write_out(&s);
        val(())
    }),
    ("IO.print", |c| {
        c.env.write_out(&to_string(c.peek(0)));
        val(())
    }),
    ("IO.eprintln", |c| {
        let mut s = to_string(c.peek(0));
        s.push('\n');
        c.env.write_err(&s);
        val(())
    }),
    ("IO.read_line", |c| {
        // As upstream: `Ok(line)` without its line ending, `Err` at the end
        // of input or on a read error (so a loop over stdin can stop).
        c.env.flush_out();
        let mut line = String::new();
        val(match std::io::stdin().lock().read_line(&mut line) {
            Ok(0) => err(Term::from("end of input")),
            Ok(_) => ok(Term::from(line.trim_end_matches(['\n', '\r']))),
            Err(e) => err(Term::from(format!("reading stdin: {e}"))),
        })
    }),
    ("send", |c| {
        let to = c.pid(0)?;
        let msg = c.arg(1);
        // A value that cannot cross to another node (a closure) fails the
        // send here, in the sender, rather than being dropped on the way.
        c.cx()?.try_send(to, msg).map_err(|e| Fault::Dist {
            op: "send",
            reason: format!("to {}: {e}", to_string(&Term::Pid(to))),
        })?;
        val(())
    }),
    ("self", |c| {
        let pid = c.cx()?.pid();
        val(pid)
    }),
    ("link", |c| {
        let p = c.pid(0)?;
        c.cx()?.link(p);
        val(())
    }),
    // String
    ("String.length", |c| val(c.str(0)?.chars().count() as i64)),
    ("String.split", |c| {
        let s = c.str(0)?;
        let sep = c.str(1)?;
        let parts: List = if sep.is_empty() {
            s.chars().map(|ch| Term::from(ch.to_string())).collect()
        } else {
            s.split(sep).map(Term::str).collect()
        };
        val(parts)
    }),
    ("String.join", |c| {
        let sep = c.str(1)?.to_string();
        let l = c.list(0)?;
        let parts: Vec<String> = l.iter().map(to_string).collect();
        val(parts.join(&sep))
    }),
    ("String.trim", |c| val(c.str(0)?.trim())),
    ("String.contains", |c| {
        let s = c.str(0)?;
        val(s.contains(c.str(1)?))
    }),
    ("String.starts_with", |c| {
        let s = c.str(0)?;
        val(s.starts_with(c.str(1)?))
    }),
    ("String.ends_with", |c| {
        let s = c.str(0)?;
        val(s.ends_with(c.str(1)?))
    }),
    ("String.replace", |c| {
        let s = c.str(0)?;
        let from = c.str(1)?;
        let to = c.str(2)?;
        if from.is_empty() {
            return val(s);
        }
        val(s.replace(from, to))
    }),
    ("String.upcase", |c| val(c.str(0)?.to_uppercase())),
    ("String.to_upper", |c| val(c.str(0)?.to_uppercase())),
    ("String.downcase", |c| val(c.str(0)?.to_lowercase())),
    ("String.to_lower", |c| val(c.str(0)?.to_lowercase())),
    ("String.to_int", |c| {
        val(opt(c.str(0)?.trim().parse::<i64>().ok().map(Term::Int)))
    }),
    ("String.to_float", |c| {
        val(opt(parse_float(c.str(0)?).map(Term::Float)))
    }),
    ("String.from", |c| val(to_string(c.peek(0)))),
    ("String.slice", |c| {
        let s = c.str(0)?;
        let start = usize::try_from(c.int(1)?.max(0)).unwrap_or(0);
        let end = usize::try_from(c.int(2)?.max(0)).unwrap_or(0);
        let out: String = s
            .chars()
            .skip(start)
            .take(end.saturating_sub(start))
            .collect();
        val(out)
    }),
    ("String.chars", |c| {
        let l: List = c
            .str(0)?
            .chars()
            .map(|ch| Term::from(ch.to_string()))
            .collect();
        val(l)
    }),
    ("String.is_empty", |c| val(c.str(0)?.is_empty())),
    // Int / Float
    ("Int.to_string", |c| val(c.int(0)?.to_string())),
    ("Int.to_float", |c| val(c.int(0)? as f64)),
    ("Int.parse", |c| {
        val(opt(c.str(0)?.trim().parse::<i64>().ok().map(Term::Int)))
    }),
    ("Int.abs", |c| {
        let v = c.int(0)?;
        val(v.checked_abs().ok_or(Fault::Overflow { op: "Int.abs" })?)
    }),
    ("Int.min", |c| val(c.int(0)?.min(c.int(1)?))),
    ("Int.max", |c| val(c.int(0)?.max(c.int(1)?))),
    ("Float.from", |c| val(c.int(0)? as f64)),
    ("Float.to_int", |c| val(float_to_int(c.float(0)?.trunc())?)),
    ("Float.round", |c| val(float_to_int(c.float(0)?.round())?)),
    ("Float.floor", |c| val(float_to_int(c.float(0)?.floor())?)),
    ("Float.ceil", |c| val(float_to_int(c.float(0)?.ceil())?)),
    ("Float.to_string", |c| val(to_string(c.peek(0)))),
    ("Float.parse", |c| {
        val(opt(parse_float(c.str(0)?).map(Term::Float)))
    }),
    ("Float.sqrt", |c| val(c.float(0)?.sqrt())),
    // Math: `abs`/`min`/`max` on Int or Float (the checker makes sure).
    ("Math.abs", |c| match c.arg(0) {
        Term::Int(v) => val(v.checked_abs().ok_or(Fault::Overflow { op: "Math.abs" })?),
        Term::Float(x) => val(x.abs()),
        other => Err(Fault::Type {
            op: "Math.abs",
            got: other.kind_name(),
        }),
    }),
    ("Math.min", |c| num_pick(c, "Math.min", false)),
    ("Math.max", |c| num_pick(c, "Math.max", true)),
    ("Math.pow", |c| val(c.float(0)?.powf(c.float(1)?))),
    ("Math.sqrt", |c| val(c.float(0)?.sqrt())),
    ("Math.floor", |c| val(float_to_int(c.float(0)?.floor())?)),
    ("Math.ceil", |c| val(float_to_int(c.float(0)?.ceil())?)),
    ("Math.round", |c| val(float_to_int(c.float(0)?.round())?)),
    // List
    ("List.new", |_| val(List::new())),
    ("List.length", |c| val(c.list(0)?.len() as i64)),
    ("List.map", |c| higher(c, Kind::Map)),
    ("List.filter", |c| higher(c, Kind::Filter)),
    ("List.reduce", |c| fold(c)),
    ("List.fold", |c| fold(c)),
    ("List.each", |c| higher(c, Kind::Each)),
    ("List.head", |c| {
        let l = c.list(0)?;
        l.head()
            .cloned()
            .map(Ret::Value)
            .ok_or(Fault::EmptyList { func: "List.head" })
    }),
    ("List.tail", |c| {
        let l = c.list(0)?;
        l.tail()
            .map(|t| Ret::Value(Term::List(t)))
            .ok_or(Fault::EmptyList { func: "List.tail" })
    }),
    ("List.get", list_get),
    ("List.nth", list_get),
    ("List.last", |c| {
        let l = c.list(0)?;
        l.iter()
            .next_back()
            .cloned()
            .map(Ret::Value)
            .ok_or(Fault::EmptyList { func: "List.last" })
    }),
    ("List.flatten", |c| {
        let l = c.list(0)?;
        let mut out = Vec::new();
        for inner in l.iter() {
            match inner {
                Term::List(xs) => out.extend(xs.iter().cloned()),
                other => out.push(other.clone()),
            }
        }
        val(List::from_vec(out))
    }),
    ("List.append", |c| {
        let x = c.arg(1);
        let mut l = c.list(0)?;
        l.push(x);
        val(l)
    }),
    ("List.concat", |c| {
        let b = c.list(1)?;
        let mut a = c.list(0)?;
        a.make_unique().extend(b.iter().cloned());
        val(a)
    }),
    ("List.reverse", |c| {
        let l = c.list(0)?;
        val(l.iter().rev().cloned().collect::<List>())
    }),
    ("List.sort_with", |c| {
        let f = c.arg(1);
        let l = c.list(0)?;
        Ok(match Native::sort(&l, f) {
            Some(n) => Ret::Native(n),
            None => Ret::Value(Term::List(l)),
        })
    }),
    ("List.sort", |c| {
        let mut l = c.list(0)?;
        l.make_unique().sort();
        val(l)
    }),
    ("List.zip", |c| {
        let a = c.list(0)?;
        let b = c.list(1)?;
        val(a
            .iter()
            .zip(b.iter())
            .map(|(x, y)| Term::tuple(vec![x.clone(), y.clone()]))
            .collect::<List>())
    }),
    ("List.enumerate", |c| {
        let a = c.list(0)?;
        val(a
            .iter()
            .enumerate()
            .map(|(i, x)| Term::tuple(vec![Term::Int(i as i64), x.clone()]))
            .collect::<List>())
    }),
    ("List.find", |c| higher(c, Kind::Find)),
    ("List.any", |c| higher(c, Kind::Any)),
    ("List.all", |c| higher(c, Kind::All)),
    ("List.take", |c| {
        let n = usize::try_from(c.int(1)?.max(0)).unwrap_or(0);
        let l = c.list(0)?;
        val(l.iter().take(n).cloned().collect::<List>())
    }),
    ("List.drop", |c| {
        let n = usize::try_from(c.int(1)?.max(0)).unwrap_or(0);
        let l = c.list(0)?;
        val(l.iter().skip(n).cloned().collect::<List>())
    }),
    ("List.contains", |c| {
        let x = c.arg(1);
        let l = c.list(0)?;
        val(l.iter().any(|y| *y == x))
    }),
    ("List.flat_map", |c| higher(c, Kind::FlatMap)),
    ("List.sum", |c| {
        let l = c.list(0)?;
        let mut s: i64 = 0;
        for x in l.iter() {
            if let Term::Int(v) = x {
                s = s
                    .checked_add(*v)
                    .ok_or(Fault::Overflow { op: "List.sum" })?;
            }
        }
        val(s)
    }),
    ("List.range", |c| {
        let a = c.int(0)?;
        let b = c.int(1)?;
        val((a..b.max(a)).map(Term::Int).collect::<List>())
    }),
    ("List.is_empty", |c| val(c.list(0)?.is_empty())),
    // Map
    ("Map.new", |_| val(Term::map([]))),
    ("Map.put", |c| {
        let v = c.arg(2);
        let k = c.arg(1);
        let mut m = c.map(0)?;
        Arc::make_mut(&mut m).insert(k, v);
        val(Term::Map(m))
    }),
    ("Map.get", |c| {
        let k = c.arg(1);
        let m = c.map(0)?;
        m.get(&k)
            .cloned()
            .map(Ret::Value)
            .ok_or_else(|| Fault::MissingKey {
                key: display_key(&k),
            })
    }),
    ("Map.find", |c| {
        let k = c.arg(1);
        let m = c.map(0)?;
        val(opt(m.get(&k).cloned()))
    }),
    ("Map.has_key", |c| {
        let k = c.arg(1);
        let m = c.map(0)?;
        val(m.contains_key(&k))
    }),
    ("Map.delete", |c| {
        let k = c.arg(1);
        let mut m = c.map(0)?;
        Arc::make_mut(&mut m).remove(&k);
        val(Term::Map(m))
    }),
    ("Map.keys", |c| {
        let m = c.map(0)?;
        val(m.keys().cloned().collect::<List>())
    }),
    ("Map.values", |c| {
        let m = c.map(0)?;
        val(m.values().cloned().collect::<List>())
    }),
    ("Map.size", |c| val(c.map(0)?.len() as i64)),
    ("Map.to_list", |c| {
        let m = Term::Map(c.map(0)?);
        val(crate::vm::interp::to_list(&m)?)
    }),
    ("Map.from_list", |c| {
        let l = c.list(0)?;
        let mut m = BTreeMap::new();
        for t in l.iter() {
            if let Some([k, v]) = t.as_tuple() {
                m.insert(k.clone(), v.clone());
            }
        }
        val(Term::Map(Arc::new(m)))
    }),
    ("Map.merge", |c| {
        let b = c.map(1)?;
        let mut a = c.map(0)?;
        let am = Arc::make_mut(&mut a);
        for (k, v) in b.iter() {
            am.insert(k.clone(), v.clone());
        }
        val(Term::Map(a))
    }),
    // Set
    ("Set.new", |_| val(set_term(BTreeMap::new()))),
    ("Set.put", set_insert),
    ("Set.add", set_insert),
    ("Set.contains", |c| {
        let x = c.arg(1);
        val(c.set(0)?.contains_key(&x))
    }),
    ("Set.delete", set_remove),
    ("Set.remove", set_remove),
    ("Set.size", |c| val(c.set(0)?.len() as i64)),
    ("Set.to_list", |c| {
        val(c.set(0)?.keys().cloned().collect::<List>())
    }),
    ("Set.from_list", |c| {
        let l = c.list(0)?;
        val(set_term(
            l.iter().map(|x| (x.clone(), Term::Unit)).collect(),
        ))
    }),
    ("Set.union", |c| {
        let b = c.set(1)?;
        let mut a = Arc::unwrap_or_clone(c.set(0)?);
        a.extend(b.iter().map(|(k, v)| (k.clone(), v.clone())));
        val(set_term(a))
    }),
    ("Set.intersection", |c| {
        let b = c.set(1)?;
        let a = c.set(0)?;
        val(set_term(
            a.iter()
                .filter(|(k, _)| b.contains_key(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
    }),
    ("Set.difference", |c| {
        let b = c.set(1)?;
        let a = c.set(0)?;
        val(set_term(
            a.iter()
                .filter(|(k, _)| !b.contains_key(k))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        ))
    }),
    // Option / Result
    ("Option.unwrap_or", |c| {
        let d = c.arg(1);
        val(payload_if(c.peek(0), N.some).unwrap_or(d))
    }),
    ("Option.map", |c| wrap(c, N.some)),
    ("Option.is_some", |c| val(is_ctor(c.peek(0), N.some))),
    ("Option.is_none", |c| val(is_ctor(c.peek(0), N.none))),
    ("Option.unwrap", |c| {
        payload_if(c.peek(0), N.some)
            .map(Ret::Value)
            .ok_or_else(|| Fault::Unwrap {
                func: "Option.unwrap",
                value: to_string(c.peek(0)),
            })
    }),
    ("Result.unwrap_or", |c| {
        let d = c.arg(1);
        val(payload_if(c.peek(0), N.ok).unwrap_or(d))
    }),
    ("Result.map", |c| wrap(c, N.ok)),
    ("Result.map_err", |c| wrap(c, N.err)),
    ("Result.is_ok", |c| val(is_ctor(c.peek(0), N.ok))),
    ("Result.is_err", |c| val(is_ctor(c.peek(0), N.err))),
    ("Result.unwrap", |c| {
        payload_if(c.peek(0), N.ok)
            .map(Ret::Value)
            .ok_or_else(|| Fault::Unwrap {
                func: "Result.unwrap",
                value: to_string(c.peek(0)),
            })
    }),
    // Env
    ("Env.get", |c| {
        let k = c.str(0)?;
        match std::env::var(k) {
            Ok(v) => val(v),
            Err(_) => Ok(Ret::Value(c.arg(1))),
        }
    }),
    ("Env.get_int", |c| {
        let k = c.str(0)?;
        match std::env::var(k)
            .ok()
            .and_then(|v| v.trim().parse::<i64>().ok())
        {
            Some(v) => val(v),
            None => Ok(Ret::Value(c.arg(1))),
        }
    }),
    ("Env.args", |c| {
        val(c.env.args.iter().map(|a| Term::str(a)).collect::<List>())
    }),
    // Process / Timer: thin bindings of `Cx`.
    ("Process.monitor", |c| {
        let p = c.pid(0)?;
        let r = c.cx()?.monitor(p);
        val(r)
    }),
    ("Process.demonitor", |c| {
        if let Term::Ref(r) = c.peek(0) {
            let r = *r;
            c.cx()?.demonitor(r);
        }
        val(())
    }),
    ("Process.register", |c| {
        let name = c.str(0)?.to_string();
        let p = c.pid(1)?;
        match c.cx()?.register(&name, p) {
            Ok(()) => val(ok(Term::Unit)),
            Err(e) => val(err(Term::from(e.to_string()))),
        }
    }),
    ("Process.whereis", |c| {
        let name = c.str(0)?.to_string();
        let p =
            c.cx()?
                .whereis(&name)
                .unwrap_or(Pid::from_parts(NodeId::LOCAL, u16::MAX, u32::MAX, 0));
        val(p)
    }),
    ("Process.unregister", |c| {
        let name = c.str(0)?.to_string();
        c.cx()?.unregister(&name);
        val(())
    }),
    ("Process.exit", |c| {
        let p = c.pid(0)?;
        let r = c.arg(1);
        c.cx()?.exit(p, r);
        val(())
    }),
    ("Process.trap_exit", |c| {
        let on = matches!(c.peek(0), Term::Bool(true));
        c.cx()?.trap_exit(on);
        val(())
    }),
    ("Timer.sleep", |c| {
        let ms = u64::try_from(c.int(0)?.max(0)).unwrap_or(0);
        match c.cx()?.receive(|_| false, Some(Duration::from_millis(ms))) {
            Received::Pending => Ok(Ret::Wait),
            _ => val(()),
        }
    }),
    ("Timer.send_after", |c| {
        let p = c.pid(0)?;
        let ms = u64::try_from(c.int(1)?.max(0)).unwrap_or(0);
        let msg = c.arg(2);
        // As `send`: what cannot reach another node fails here, not later.
        if !p.is_local() {
            mesh_core::dist::term_codec::check_sendable(&msg).map_err(|e| Fault::Dist {
                op: "Timer.send_after",
                reason: format!("to {}: {e}", to_string(&Term::Pid(p))),
            })?;
        }
        c.cx()?.send_after(p, Duration::from_millis(ms), msg);
        val(())
    }),
];

fn display_key(k: &Term) -> String {
    match k {
        Term::Str(s) => format!("{:?}", &**s),
        other => to_string(other),
    }
}

fn parse_float(s: &str) -> Option<f64> {
    let s = s.trim();
    // Rust accepts "inf"/"nan"; the language reads numbers only.
    if s.chars().any(|c| c.is_ascii_digit()) {
        s.parse::<f64>().ok()
    } else {
        None
    }
}

/// `Math.min` / `Math.max` of two Ints or two Floats.
fn num_pick(c: &mut Call<'_, '_>, op: &'static str, max: bool) -> Result<Ret, Fault> {
    match (c.arg(0), c.arg(1)) {
        (Term::Int(a), Term::Int(b)) => val(if max { a.max(b) } else { a.min(b) }),
        (Term::Float(a), Term::Float(b)) => val(if max { a.max(b) } else { a.min(b) }),
        (a, _) => Err(Fault::Type {
            op,
            got: a.kind_name(),
        }),
    }
}

fn float_to_int(f: f64) -> Result<i64, Fault> {
    if (-9.223_372_036_854_776e18..9.223_372_036_854_776e18).contains(&f) {
        Ok(f as i64)
    } else {
        Err(Fault::Overflow { op: "Float to Int" })
    }
}

fn is_ctor(t: &Term, ctor: Atom) -> bool {
    matches!(t, Term::Variant(v) if v.ctor == ctor)
}

fn payload_if(t: &Term, ctor: Atom) -> Option<Term> {
    match t {
        Term::Variant(v) if v.ctor == ctor => v.fields.first().cloned(),
        _ => None,
    }
}

fn higher(c: &mut Call<'_, '_>, kind: Kind) -> Result<Ret, Fault> {
    let f = c.arg(1);
    let l = c.list(0)?;
    Ok(Ret::Native(Native::list(kind, l, f, Term::Unit)))
}

fn fold(c: &mut Call<'_, '_>) -> Result<Ret, Fault> {
    let f = c.arg(2);
    let init = c.arg(1);
    let l = c.list(0)?;
    if l.is_empty() {
        return val(init);
    }
    Ok(Ret::Native(Native::list(Kind::Fold, l, f, init)))
}

/// `Option.map`, `Result.map`, `Result.map_err`: apply the function when
/// the value is the constructor `ctor`, else return it unchanged.
fn wrap(c: &mut Call<'_, '_>, ctor: Atom) -> Result<Ret, Fault> {
    let f = c.arg(1);
    let v = c.arg(0);
    if is_ctor(&v, ctor) {
        Ok(Ret::Native(Native::Wrap {
            f,
            value: v,
            called: false,
        }))
    } else {
        val(v)
    }
}
