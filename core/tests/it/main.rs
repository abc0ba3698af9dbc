mod semantics;
