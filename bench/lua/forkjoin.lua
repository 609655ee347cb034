-- forkjoin.lua — bench/forkjoin.zx in Lua: the two tiny tasks of each region, run in turn.
local r = tonumber(arg[1]) or 1000
local a, b = 0, 0
for i = 0, r - 1 do
    a = a + i
    b = b + 2 * i
end
print(string.format("%d", a + b))
