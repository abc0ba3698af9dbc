-- lang-fib peer: naive doubly recursive Fibonacci; prints the result
-- and the milliseconds of the computation.
local function fib(n) if n < 2 then return n end return fib(n - 1) + fib(n - 2) end
local n = tonumber(arg[1]) or 30
local t0 = os.clock()
local r = fib(n)
print(r, (os.clock() - t0) * 1000)
