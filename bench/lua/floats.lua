-- floats.lua — bench/floats.zx in Lua: complex float expressions in a loop.
local function fexpr(n)
    local x, y, acc = 0.5, 1.25, 0.0
    for i = 0, n - 1 do
        local t = (i % 1000) * 0.001
        x = (x * x + t) / (1.0 + x * t + y * 0.5) - (t * 0.5) * (x - 0.25)
        y = y * 0.75 + (x - t) * (x + t) / (2.0 + t * t) + 0.125
        acc = acc + x * y - (x - y) * (x - y) * 0.0625
    end
    return acc
end
local n = tonumber(arg[1]) or 100
local v = fexpr(n) * 1000000.0
print(string.format("%d", v >= 0 and math.floor(v) or math.ceil(v)))
