-- mandelbrot.lua — points of a SIZE x SIZE grid that stay in the set for 50 iterations.
local size = tonumber(arg and arg[1]) or 200

local function row(y)
    local inside = 0
    local ci = 2.0 * y / size - 1.0
    for x = 0, size - 1 do
        local cr = 2.0 * x / size - 1.5
        local zr, zi = 0.0, 0.0
        local escaped = false
        for _ = 1, 50 do
            local tr = zr * zr - zi * zi + cr
            local ti = 2.0 * zr * zi + ci
            zr, zi = tr, ti
            if zr * zr + zi * zi > 4.0 then escaped = true; break end
        end
        if not escaped then inside = inside + 1 end
    end
    return inside
end

local total = 0
for y = 0, size - 1 do total = total + row(y) end
print(string.format("%d", total))
