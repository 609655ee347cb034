-- sumsq.lua — bench/sumsq.zx in Lua: the sum of i*i for i below n (a 64-bit integer: 0LL).
local n = tonumber(arg[1]) or 1000000
local total = 0LL
for i = 0, n - 1 do total = total + i * i end
print((tostring(total):gsub("[LU]+$", "")))
