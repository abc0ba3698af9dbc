-- lang-loop peer: tail-recursive loop with integer arithmetic.
local function loop(i, acc)
  if i == 0 then return acc end
  return loop(i - 1, (acc + i * 3) % 1000003)
end
local n = tonumber(arg[1]) or 10000000
local t0 = os.clock()
local r = loop(n, 0)
print(r, (os.clock() - t0) * 1000)
