# From shared/seeds/clustered-example.txt: a clustered function stays
# callable as an ordinary function.
@cluster pub fn add() -> Int do
  1 + 1
end
