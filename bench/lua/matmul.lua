-- matmul.lua — bench/matmul.zx in Lua: naive multiply of two n x n integer matrices (tables).
local n = tonumber(arg[1]) or 20
local a, b = {}, {}
for i = 0, n - 1 do
    local ra, rb = {}, {}
    for j = 0, n - 1 do
        ra[j] = (i + j) % 7
        rb[j] = (i * j) % 5
    end
    a[i], b[i] = ra, rb
end
local total = 0
for i = 0, n - 1 do
    local ai = a[i]
    for j = 0, n - 1 do
        local acc = 0
        for k = 0, n - 1 do acc = acc + ai[k] * b[k][j] end
        total = total + acc * (j + 1)
    end
end
print(string.format("%d", total))
