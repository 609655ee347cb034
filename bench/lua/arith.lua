-- arith.lua — bench/arith.zx in Lua: four independent integer loops.
local function work(seed, n)
    local s = seed
    for i = 0, n - 1 do s = (s * 31 + i) % 1000003 end
    return s
end
local n = tonumber(arg[1]) or 200
print(string.format("%d", work(1, n) + work(2, n) + work(3, n) + work(4, n)))
