fn hidden() = 1
fn secret() = 2
