-- sieve.lua — the sieve of Eratosthenes, ten times; prints the primes below N = arg[1].
local function sieve(n)
    local flags = {}
    for i = 0, n - 1 do flags[i] = true end
    flags[0] = false; flags[1] = false
    local p = 2
    while p * p < n do
        if flags[p] then
            for m = p * p, n - 1, p do flags[m] = false end
        end
        p = p + 1
    end
    local count = 0
    for i = 0, n - 1 do if flags[i] then count = count + 1 end end
    return count
end

local n = tonumber(arg and arg[1]) or 1000
local c = 0
for _ = 1, 10 do c = sieve(n) end
print(string.format("%d", c))
