-- sort.lua — quicksort of N Park-Miller pseudo-random integers (0-based table); prints a checksum.
local function quicksort(a, lo, hi)
    while lo < hi do
        local pivot = a[math.floor((lo + hi) / 2)]
        local i, j = lo, hi
        while i <= j do
            while a[i] < pivot do i = i + 1 end
            while a[j] > pivot do j = j - 1 end
            if i <= j then
                a[i], a[j] = a[j], a[i]
                i = i + 1; j = j - 1
            end
        end
        if j - lo < hi - i then quicksort(a, lo, j); lo = i
        else quicksort(a, i, hi); hi = j end
    end
end

local n = tonumber(arg and arg[1]) or 1000
local a, seed = {}, 42
for i = 0, n - 1 do seed = (seed * 16807) % 2147483647; a[i] = seed end
quicksort(a, 0, n - 1)
local sum = 0
for i = 0, n - 1 do
    if i > 0 and a[i - 1] > a[i] then sum = sum - 1000000000 end
    sum = sum + (a[i] % 1000) * (i % 1000)
end
print(string.format("%d", sum))
