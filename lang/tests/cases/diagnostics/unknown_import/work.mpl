pub fn something() = 1
