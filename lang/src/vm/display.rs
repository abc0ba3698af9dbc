//! Display of values as the language shows them (LANGUAGE.md, *Types*):
//! strings without quotes (also inside collections), floats in the
//! shortest form that reads back exactly without a trailing `.0`, lists
//! `[1, 2, 3]`, structs `Pt(1, 2)`, variants `Some(3)` / `None`, maps
//! `%{k => v}`, sets `Set([1, 2])`, closures `#closure`.
//!
//! This mirrors `mesh_core::Term`'s `Display` and adds what only the
//! language knows about (how a set is represented).

use std::fmt::Write;

use mesh_core::Term;

use super::SET_TAG;

/// Appends the display form of `t` to `out`.
pub fn display(t: &Term, out: &mut String) {
    match t {
        Term::Str(s) => out.push_str(s),
        Term::Int(i) => {
            let _ = write!(out, "{i}");
        }
        Term::Float(f) => float(*f, out),
        Term::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Term::Unit => out.push_str("()"),
        Term::Tuple(items) => seq(out, "(", items.iter(), ")"),
        Term::List(l) => seq(out, "[", l.iter(), "]"),
        Term::Map(m) => {
            out.push_str("%{");
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                display(k, out);
                out.push_str(" => ");
                display(v, out);
            }
            out.push('}');
        }
        Term::Struct(s) if s.name == *SET_TAG => {
            out.push_str("Set([");
            if let Some(Term::Map(m)) = s.fields.first() {
                for (i, k) in m.keys().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    display(k, out);
                }
            }
            out.push_str("])");
        }
        Term::Struct(s) => {
            out.push_str(s.name.as_str());
            seq(out, "(", s.fields.iter(), ")");
        }
        Term::Variant(v) => {
            out.push_str(v.ctor.as_str());
            if !v.fields.is_empty() {
                seq(out, "(", v.fields.iter(), ")");
            }
        }
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// The display form of `t` as a new string.
pub fn to_string(t: &Term) -> String {
    if let Term::Str(s) = t {
        return s.to_string();
    }
    let mut s = String::new();
    display(t, &mut s);
    s
}

fn seq<'a>(out: &mut String, open: &str, items: impl Iterator<Item = &'a Term>, close: &str) {
    out.push_str(open);
    for (i, t) in items.enumerate() {
        if i > 0 {
            out.push_str(", ");
        }
        display(t, out);
    }
    out.push_str(close);
}

/// Shortest round-trip form, no trailing `.0`, exponent form outside
/// `[1e-6, 1e21)` (as `mesh_core` shows floats).
pub fn float(f: f64, out: &mut String) {
    if f.is_nan() {
        out.push_str("NaN");
    } else if f.is_infinite() {
        out.push_str(if f > 0.0 { "inf" } else { "-inf" });
    } else {
        let a = f.abs();
        if a != 0.0 && !(1e-6..1e21).contains(&a) {
            let _ = write!(out, "{f:e}");
        } else {
            let _ = write!(out, "{f}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use mesh_core::Atom;

    #[test]
    fn matches_the_language_forms() {
        let l = Term::list(vec![Term::str("hello"), Term::str("world")]);
        assert_eq!(to_string(&l), "[hello, world]");
        let pt = Term::structure(Atom::new("Pt"), vec![Term::Int(1), Term::Int(2)]);
        assert_eq!(to_string(&pt), "Pt(1, 2)");
        assert_eq!(to_string(&Term::Float(42.0)), "42");
        assert_eq!(to_string(&Term::Float(2.5)), "2.5");
        let some = Term::variant(Atom::new("Option"), Atom::new("Some"), vec![Term::Int(3)]);
        assert_eq!(to_string(&some), "Some(3)");
        let set = Term::structure(
            *SET_TAG,
            vec![Term::map([
                (Term::Int(2), Term::Unit),
                (Term::Int(1), Term::Unit),
            ])],
        );
        assert_eq!(to_string(&set), "Set([1, 2])");
    }
}
