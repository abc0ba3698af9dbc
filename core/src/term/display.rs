//! How terms print.
//!
//! `Display` follows the language (shared/LANGUAGE.md): strings without
//! quotes, also inside collections; floats in the shortest form that reads
//! back exactly, with no trailing `.0` (exponent form below 1e-6 and from
//! 1e21 on, as JavaScript does); lists `[1, 2, 3]`; tuples `(1, a)`; maps
//! `%{k => v}`; structs `Pt(1, 2)`; variants `Circle(2)`, `None`; atoms as
//! written, `:name`. `Debug` is for humans reading logs: strings quoted and
//! kinds visible.

use std::fmt::{self, Write};

use super::{List, Term};

/// Format a float the way the language shows it.
pub fn fmt_float(f: f64, out: &mut impl Write) -> fmt::Result {
    if f.is_nan() {
        return out.write_str("NaN");
    }
    if f.is_infinite() {
        return out.write_str(if f > 0.0 { "inf" } else { "-inf" });
    }
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        write!(out, "{f:e}")
    } else {
        write!(out, "{f}")
    }
}

fn seq<'a>(
    f: &mut fmt::Formatter<'_>,
    open: &str,
    items: impl Iterator<Item = &'a Term>,
    close: &str,
    debug: bool,
) -> fmt::Result {
    f.write_str(open)?;
    for (i, t) in items.enumerate() {
        if i > 0 {
            f.write_str(", ")?;
        }
        if debug {
            fmt::Debug::fmt(t, f)?;
        } else {
            fmt::Display::fmt(t, f)?;
        }
    }
    f.write_str(close)
}

fn render(t: &Term, f: &mut fmt::Formatter<'_>, debug: bool) -> fmt::Result {
    match t {
        Term::Unit => f.write_str("()"),
        Term::Bool(b) => write!(f, "{b}"),
        Term::Int(i) => write!(f, "{i}"),
        Term::Float(x) => fmt_float(*x, f),
        Term::Atom(a) => write!(f, "{a}"),
        Term::Str(s) if debug => write!(f, "{:?}", &**s),
        Term::Str(s) => f.write_str(s),
        Term::Binary(b) => {
            f.write_str("<<")?;
            for (i, byte) in b.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{byte}")?;
            }
            f.write_str(">>")
        }
        Term::Tuple(items) => seq(f, "(", items.iter(), ")", debug),
        Term::List(l) => seq(f, "[", l.iter(), "]", debug),
        Term::Map(m) => {
            f.write_str("%{")?;
            for (i, (k, v)) in m.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                render(k, f, debug)?;
                f.write_str(" => ")?;
                render(v, f, debug)?;
            }
            f.write_str("}")
        }
        Term::Pid(p) => write!(f, "{p}"),
        Term::Ref(r) => write!(f, "{r}"),
        Term::Struct(s) => {
            f.write_str(s.name.as_str())?;
            seq(f, "(", s.fields.iter(), ")", debug)
        }
        Term::Variant(v) => {
            f.write_str(v.ctor.as_str())?;
            if v.fields.is_empty() {
                Ok(())
            } else {
                seq(f, "(", v.fields.iter(), ")", debug)
            }
        }
        Term::Opaque(o) if debug => write!(f, "#{}<{o:?}>", o.kind()),
        Term::Opaque(o) => write!(f, "#{}", o.kind()),
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render(self, f, false)
    }
}

impl fmt::Debug for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        render(self, f, true)
    }
}

impl fmt::Display for List {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        seq(f, "[", self.iter(), "]", false)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::atom::Atom;

    fn float(f: f64) -> String {
        let mut s = String::new();
        fmt_float(f, &mut s).expect("write to string");
        s
    }

    #[test]
    fn floats_are_shortest_round_trip_without_trailing_zero() {
        assert_eq!(float(42.0), "42");
        assert_eq!(float(2.75), "2.75");
        assert_eq!(float(-0.5), "-0.5");
        assert_eq!(float(0.1 + 0.2), "0.30000000000000004");
        assert_eq!(float(1e21), "1e21");
        assert_eq!(float(1.5e-7), "1.5e-7");
        assert_eq!(float(0.000001), "0.000001");
        assert_eq!(float(f64::INFINITY), "inf");
        for x in [1.0 / 3.0, 2.5e300, 7e-300, 123456.789] {
            assert_eq!(float(x).parse::<f64>().expect("reads back"), x);
        }
    }

    #[test]
    fn collections_show_strings_without_quotes() {
        let l = Term::list(vec![Term::str("hello"), Term::str("world")]);
        assert_eq!(l.to_string(), "[hello, world]");
        assert_eq!(format!("{l:?}"), r#"["hello", "world"]"#);
        let n = Term::list(vec![Term::Int(1), Term::Int(2), Term::Int(3)]);
        assert_eq!(n.to_string(), "[1, 2, 3]");
        let t = Term::tuple(vec![Term::atom("nodedown"), Term::str("a@h:1")]);
        assert_eq!(t.to_string(), "(:nodedown, a@h:1)");
        let m = Term::map([(Term::str("k"), Term::Int(1))]);
        assert_eq!(m.to_string(), "%{k => 1}");
    }

    #[test]
    fn structs_and_variants_show_constructor_form() {
        let pt = Term::structure(Atom::new("Pt"), vec![Term::Int(1), Term::Int(2)]);
        assert_eq!(pt.to_string(), "Pt(1, 2)");
        let shape = Atom::new("Shape");
        let c = Term::variant(shape, Atom::new("Circle"), vec![Term::Float(2.0)]);
        assert_eq!(c.to_string(), "Circle(2)");
        let none = Term::variant(Atom::new("Option"), Atom::new("None"), vec![]);
        assert_eq!(none.to_string(), "None");
        assert_eq!(Term::Unit.to_string(), "()");
        assert_eq!(Term::binary(&[1, 255]).to_string(), "<<1, 255>>");
    }
}
