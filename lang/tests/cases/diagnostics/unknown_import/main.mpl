import Nowhere
from Work import nothing

fn main() = 1
