fn main() = 1
#= never closed
