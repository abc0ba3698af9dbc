use super::*;
use crate::ast::*;

fn parse_ok(src: &str) -> SourceFile {
    let (sf, diags) = parse(FileId(0), src);
    assert!(
        diags.is_empty(),
        "unexpected diagnostics for {src:?}: {diags:#?}"
    );
    sf
}

/// Renders an expression as a fully parenthesised S-expression.
fn sexp(e: &Expr) -> String {
    match &e.kind {
        ExprKind::Int(n) => n.to_string(),
        ExprKind::Float(x) => x.to_string(),
        ExprKind::Bool(b) => b.to_string(),
        ExprKind::Var(i) => i.name.clone(),
        ExprKind::Path(p) => p.dotted(),
        ExprKind::Atom(a) => format!(":{a}"),
        ExprKind::Str(parts) => {
            let inner: Vec<String> = parts
                .iter()
                .map(|p| match p {
                    StrPiece::Lit(s) => format!("{s:?}"),
                    StrPiece::Expr(e) => format!("${{{}}}", sexp(e)),
                })
                .collect();
            format!("(str {})", inner.join(" "))
        }
        ExprKind::Binary { op, lhs, rhs } => {
            format!("({} {} {})", op.as_str(), sexp(lhs), sexp(rhs))
        }
        ExprKind::Unary { op, expr } => format!("({op:?} {})", sexp(expr)),
        ExprKind::Call { callee, args } => {
            let a: Vec<String> = args.iter().map(sexp).collect();
            format!("(call {} {})", sexp(callee), a.join(" "))
        }
        ExprKind::Field { expr, name } => format!("(. {} {})", sexp(expr), name.name),
        ExprKind::Index { expr, index } => format!("(index {} {})", sexp(expr), sexp(index)),
        ExprKind::Try(e) => format!("(? {})", sexp(e)),
        ExprKind::Tuple(es) => format!(
            "(tuple {})",
            es.iter().map(sexp).collect::<Vec<_>>().join(" ")
        ),
        ExprKind::List { elems, tail } => format!(
            "(list {}{})",
            elems.iter().map(sexp).collect::<Vec<_>>().join(" "),
            tail.as_ref()
                .map(|t| format!(" | {}", sexp(t)))
                .unwrap_or_default()
        ),
        ExprKind::Unit => "()".into(),
        ExprKind::Builtin(i) => format!("builtin:{}", i.name),
        ExprKind::StructLit { name, fields } => format!(
            "(struct {} {})",
            name.dotted(),
            fields
                .iter()
                .map(|(f, v)| format!("{}={}", f.name, sexp(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        ExprKind::Map(es) => format!(
            "(map {})",
            es.iter()
                .map(|(k, v)| format!("{}=>{}", sexp(k), sexp(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        ExprKind::StructUpdate { base, fields } => format!(
            "(update {} {})",
            sexp(base),
            fields
                .iter()
                .map(|(f, v)| format!("{}={}", f.name, sexp(v)))
                .collect::<Vec<_>>()
                .join(" ")
        ),
        ExprKind::Closure(c) => format!("(fn/{})", c.len()),
        other => format!("<{other:?}>"),
    }
}

fn ex(src: &str) -> String {
    let (e, diags) = parse_expr(FileId(0), src);
    assert!(diags.is_empty(), "diagnostics for {src:?}: {diags:#?}");
    sexp(&e.unwrap())
}

#[test]
fn precedence_follows_the_table() {
    assert_eq!(ex("1 + 2 * 3"), "(+ 1 (* 2 3))");
    assert_eq!(ex("1 - 2 - 3"), "(- (- 1 2) 3)");
    assert_eq!(ex("a or b and c"), "(or a (and b c))");
    assert_eq!(ex("a || b && c == d"), "(or a (and b (== c d)))");
    assert_eq!(ex("a == b < c"), "(== a (< b c))");
    assert_eq!(ex("a < b .. c"), "(< a (.. b c))");
    assert_eq!(ex("0..n + 1"), "(.. 0 (+ n 1))");
    assert_eq!(ex("a <> b ++ c + d"), "(++ (<> a b) (+ c d))");
    assert_eq!(ex("a % b * c / d"), "(/ (* (% a b) c) d)");
    assert_eq!(ex("-a * b"), "(* (Neg a) b)");
    assert_eq!(ex("not a and !b"), "(and (Not a) (Not b))");
    assert_eq!(ex("-x.y"), "(Neg (. x y))");
    assert_eq!(ex("-5"), "-5");
    assert_eq!(ex("f(x)[0].y?"), "(? (. (index (call f x) 0) y))");
}

#[test]
fn pipes_desugar_to_calls() {
    assert_eq!(ex("x |> f(a)"), "(call f x a)");
    assert_eq!(ex("x |2> f(a)"), "(call f a x)");
    assert_eq!(ex("x |> f"), "(call f x)");
    assert_eq!(ex("x + 1 |> f() |> g(2)"), "(call g (call f (+ x 1)) 2)");
    assert_eq!(
        ex("xs\n  |> List.map(fn x -> x end)\n  |> List.length()"),
        "(call List.length (call List.map xs (fn/1)))"
    );
    let (_, diags) = parse_expr(FileId(0), "x |3> f(a)");
    assert_eq!(diags.len(), 1);
    assert_eq!(diags[0].code, Code::BadPipe);
}

#[test]
fn literals_collections_and_paths() {
    assert_eq!(ex("(1, \"a\")"), "(tuple 1 (str \"a\"))");
    assert_eq!(ex("()"), "()");
    assert_eq!(ex("[1, 2 | t]"), "(list 1 2 | t)");
    assert_eq!(ex("%{\"k\" => 1, a: 2}"), "(map (str \"k\")=>1 :a=>2)");
    assert_eq!(ex("%{p | x: 9}"), "(update p x=9)");
    assert_eq!(ex("Pt { x: 1, y: 2 }"), "(struct Pt x=1 y=2)");
    assert_eq!(ex("Shape.Circle(1.5)"), "(call Shape.Circle 1.5)");
    assert_eq!(ex("Node.self()"), "(call Node.self )");
    assert_eq!(ex("self()"), "(call builtin:self )");
    assert_eq!(ex("\"a ${x + 1} b\""), "(str \"a \" ${(+ x 1)} \" b\")");
    assert_eq!(ex(":ok"), ":ok");
}

#[test]
fn items_of_every_kind_parse() {
    let sf = parse_ok(
        "import Math.Vector\n\
         from Work import add, sub\n\
         from Api import (\n  a,\n  b\n)\n\
         @cluster(3) pub fn add() -> Int do\n  1 + 1\nend\n\
         fn sq(x) = x * x\n\
         fn sign(0) = 0\nfn sign(n) when n < 0 = -1\nfn sign(_) = 1\n\
         actor worker(n :: Int) do\n  receive do\n    msg -> worker(n + 1)\n  after 100 -> :timeout\n  end\n  terminate do\n    println(\"bye\")\n  end\nend\n\
         service Counter do\n  fn init(start :: Int) -> Int do\n    start\n  end\n  call Get() :: Int do |s|\n    (s, s)\n  end\n  cast Reset() do |_s|\n    0\n  end\nend\n\
         supervisor Sup do\n  strategy: one_for_one max_restarts: 3\n  max_seconds: 5\n  child w do\n    start: fn -> spawn(worker, 0) end\n    restart: permanent\n    shutdown: 5000\n  end\nend\n\
         struct Pt do\n  x :: Int\n  y :: Int\nend deriving(Eq, Display)\n\
         type Shape do\n  Dot\n  Circle(Float)\n  Rect(Float, Float)\nend\n\
         type Url = String\n\
         interface Show do\n  fn show(self) -> String\nend\n\
         impl Show for Pt do\n  fn show(p) = \"pt\"\nend\n\
         module Inner do\n  fn f() = 1\nend\n",
    );
    let kinds: Vec<&str> = sf
        .items
        .iter()
        .map(|i| match &i.kind {
            ItemKind::Fn(_) => "fn",
            ItemKind::Actor(_) => "actor",
            ItemKind::Service(_) => "service",
            ItemKind::Supervisor(_) => "supervisor",
            ItemKind::Struct(_) => "struct",
            ItemKind::SumType(_) => "sum",
            ItemKind::TypeAlias(_) => "alias",
            ItemKind::Interface(_) => "interface",
            ItemKind::Impl(_) => "impl",
            ItemKind::Import(_) => "import",
            ItemKind::FromImport(_) => "from",
            ItemKind::Module(_) => "module",
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "import",
            "from",
            "from",
            "fn",
            "fn",
            "fn",
            "actor",
            "service",
            "supervisor",
            "struct",
            "sum",
            "alias",
            "interface",
            "impl",
            "module"
        ]
    );
    let ItemKind::Fn(sign) = &sf.items[5].kind else {
        panic!()
    };
    assert_eq!(sign.clauses.len(), 3, "consecutive clauses merge");
    assert!(sign.clauses[1].guard.is_some());
    assert_eq!(sf.items[3].attrs[0].name.name, "cluster");
    assert!(sf.items[3].public);
    let ItemKind::Actor(a) = &sf.items[6].kind else {
        panic!()
    };
    assert!(a.terminate.is_some());
    let ItemKind::Supervisor(s) = &sf.items[8].kind else {
        panic!()
    };
    assert_eq!(s.settings.len(), 3);
    assert_eq!(s.children[0].settings.len(), 3);
    let ItemKind::SumType(t) = &sf.items[10].kind else {
        panic!()
    };
    assert_eq!(t.variants.len(), 3);
}

#[test]
fn control_flow_and_patterns() {
    let sf = parse_ok(
        "fn f(x) do\n\
         let (a, b) = x\n\
         let y :: Int = 1\n\
         if a do\n  1\nelse if b do\n  2\nelse\n  3\nend\n\
         case x do\n  (:nodedown, n) -> n\n  [h | t] when h > 0 -> h\n  h :: t -> t\n  Some(v) | Ok(v) -> v\n  Pt { x: px, y } -> px\n  %{\"k\" => v} -> v\n  p as whole -> do\n    whole\n  end\nend\n\
         for {k, v} in m when k > 0 do\n  k\nend\n\
         while true do\n  break\nend\n\
         return y\n\
         end\n",
    );
    let ItemKind::Fn(f) = &sf.items[0].kind else {
        panic!()
    };
    let ExprKind::Block(stmts) = &f.clauses[0].body.kind else {
        panic!()
    };
    assert_eq!(stmts.len(), 7);
    let Stmt::Expr(Expr {
        kind: ExprKind::If { else_: Some(e), .. },
        ..
    }) = &stmts[2]
    else {
        panic!("{:?}", stmts[2])
    };
    assert!(matches!(e.kind, ExprKind::If { .. }), "else if nests an if");
    let Stmt::Expr(Expr {
        kind: ExprKind::Case { arms, .. },
        ..
    }) = &stmts[3]
    else {
        panic!()
    };
    assert_eq!(arms.len(), 7);
    assert!(matches!(arms[0].pat.kind, PatternKind::Tuple(_)));
    assert!(matches!(
        arms[1].pat.kind,
        PatternKind::List { tail: Some(_), .. }
    ));
    assert!(matches!(arms[2].pat.kind, PatternKind::Cons(..)));
    assert!(matches!(arms[3].pat.kind, PatternKind::Or(_)));
    assert!(matches!(arms[4].pat.kind, PatternKind::Struct { .. }));
    assert!(matches!(arms[5].pat.kind, PatternKind::Map(_)));
    assert!(matches!(arms[6].pat.kind, PatternKind::As(..)));
}

#[test]
fn closures_in_every_form() {
    for src in [
        "fn x -> x + 1 end",
        "fn(a, b) -> a + b end",
        "fn -> 42 end",
        "fn 0 -> \"zero\" | n -> \"other\" end",
        "fn x ->\n  let y = x\n  y\nend",
        "List.map(xs, fn x ->\n  let y = x * 2\n  y\nend)",
    ] {
        let (e, diags) = parse_expr(FileId(0), src);
        assert!(diags.is_empty(), "{src}: {diags:#?}");
        assert!(e.is_some());
    }
    let (e, _) = parse_expr(FileId(0), "fn 0 -> \"zero\" | n -> \"other\" end");
    let Some(Expr {
        kind: ExprKind::Closure(cl),
        ..
    }) = e
    else {
        panic!()
    };
    assert_eq!(cl.len(), 2);
}

#[test]
fn types_parse_with_sugar() {
    let sf = parse_ok(
        "fn f(a :: List<Int>, b :: Map<String, Int?>, c :: Fun(Int, Int) -> Bool, d :: (Int, String), e :: ()) -> Int ! String do\n  Ok(1)\nend\n",
    );
    let ItemKind::Fn(f) = &sf.items[0].kind else {
        panic!()
    };
    let ret = f.clauses[0].ret.as_ref().unwrap();
    assert!(matches!(ret.kind, TypeExprKind::Result(..)));
    let TypeExprKind::Named { args, .. } = &f.clauses[0].params[1].ty.as_ref().unwrap().kind else {
        panic!()
    };
    assert!(matches!(args[1].kind, TypeExprKind::Option(_)));
    assert!(matches!(
        f.clauses[0].params[2].ty.as_ref().unwrap().kind,
        TypeExprKind::Fun { .. }
    ));
    assert!(
        matches!(&f.clauses[0].params[4].ty.as_ref().unwrap().kind, TypeExprKind::Tuple(v) if v.is_empty())
    );
}

#[test]
fn recovery_reports_several_errors_in_one_file() {
    let src = "fn a() do\n  let = 1\n  let x = )\n  x\nend\n\nfn b( do\nend\n\nfn c() do\n  1 +\nend\n\nfn ok() = 1\n";
    let (sf, diags) = parse(FileId(0), src);
    assert!(diags.len() >= 3, "{diags:#?}");
    assert!(diags.iter().all(|d| d.code == Code::UnexpectedToken));
    // The good function after the errors is still parsed.
    assert!(
        sf.items
            .iter()
            .any(|i| matches!(&i.kind, ItemKind::Fn(f) if f.name.name == "ok"))
    );
}

#[test]
fn deep_nesting_is_a_diagnostic_not_a_crash() {
    let depth = 5000;
    let src = format!("fn main() = {}1{}\n", "(".repeat(depth), ")".repeat(depth));
    let (_, diags) = parse(FileId(0), &src);
    assert_eq!(diags.iter().filter(|d| d.code == Code::TooDeep).count(), 1);
    let src = format!("fn main() = {}1{}\n", "[".repeat(depth), "]".repeat(depth));
    let (_, diags) = parse(FileId(0), &src);
    assert!(diags.iter().any(|d| d.code == Code::TooDeep));
    let src = format!("fn main() = {}1\n", "-".repeat(depth));
    let (_, diags) = parse(FileId(0), &src);
    assert!(diags.iter().any(|d| d.code == Code::TooDeep));
    let src = format!("fn main() = \"{}\"\n", "${\"".repeat(depth));
    let (_, diags) = parse(FileId(0), &src);
    assert!(!diags.is_empty());
}

#[test]
fn item_spans_cover_the_item() {
    let sf = parse_ok("\nfn sq(x) = x * x\n");
    assert_eq!(sf.items[0].span, Span::new(FileId(0), 1, 17));
}

#[test]
fn recovery_always_makes_progress() {
    // Tokens that stop statement recovery (`else`, `after`, `|`) in the
    // wrong place must not loop forever.
    for src in [
        "fn f() do\n  else\n  after\n  |\nend\n",
        "fn f() = case x do\n  else -> 1\nend\n",
        "service S do\n  else\nend\n",
        "supervisor S do\n  | x\nend\n",
    ] {
        let (_, diags) = parse(FileId(0), src);
        assert!(!diags.is_empty(), "{src}");
        assert!(diags.len() < 10, "{src}: {diags:#?}");
    }
}
