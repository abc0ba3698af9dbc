# shared/seeds/clustered-example.txt: work.mpl, verbatim.
@cluster pub fn add() -> Int do
  1 + 1
end
