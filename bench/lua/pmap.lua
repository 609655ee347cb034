-- pmap.lua — bench/pmap.zx in Lua: a float-heavy function over 0..m-1 (sequential).
local function heavy(v, iters)
    local x, acc = v * 0.001, 0.0
    for _ = 1, iters do
        x = (x * x + 0.5) / (1.0 + x) - x * 0.125
        acc = acc + x * (1.0 - x * 0.5)
    end
    return acc
end
local m, k = tonumber(arg[1]) or 1000, tonumber(arg[2]) or 2000
local ys = {}
for v = 0, m - 1 do ys[v + 1] = heavy(v, k) end
local total = 0.0
for v = 1, m do total = total + ys[v] end
local t = total * 1000.0
print(string.format("%d", t >= 0 and math.floor(t) or math.ceil(t)))
