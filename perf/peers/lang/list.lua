-- lang-list peer: map, filter and fold over an array of N integers,
-- each a function taking a closure (as Mesh's List.map/filter/fold).
local function map(xs, f) local out = {} for i = 1, #xs do out[i] = f(xs[i]) end return out end
local function filter(xs, f) local out, n = {}, 0 for i = 1, #xs do if f(xs[i]) then n = n + 1; out[n] = xs[i] end end return out end
local function fold(xs, acc, f) for i = 1, #xs do acc = f(acc, xs[i]) end return acc end
local n = tonumber(arg[1]) or 1000000
local t0 = os.clock()
local xs = {}
for i = 1, n do xs[i] = i - 1 end
local ys = map(xs, function(x) return x * 3 end)
local zs = filter(ys, function(x) return x % 2 == 0 end)
local s = fold(zs, 0, function(a, x) return a + x end)
print(s, (os.clock() - t0) * 1000)
