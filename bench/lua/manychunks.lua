-- manychunks.lua — bench/manychunks.zx in Lua: 64 independent loops, then their sum.
local function work(seed, n)
    local s = seed
    for i = 0, n - 1 do s = (s * 31 + i) % 1000003 end
    return s
end
local n = tonumber(arg[1]) or 1000
local total = 0
for k = 1, 64 do total = total + work(k, n) end
print(string.format("%d", total))
