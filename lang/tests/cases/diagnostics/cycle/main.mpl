import A

fn main() = 1
