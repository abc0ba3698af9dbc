import Work
from Work import secret

fn main() do
  Work.hidden()
end
