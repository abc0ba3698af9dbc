pub fn span(from, to) = to - from
