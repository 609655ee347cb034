-- fannkuch.lua — fannkuch-redux (0-based indexes in tables); prints the checksum and the most flips.
local function fannkuch(n)
    local perm1, perm, count = {}, {}, {}
    for i = 0, n - 1 do perm1[i] = i; perm[i] = 0; count[i] = 0 end
    local max_flips, checksum, perm_count, r = 0, 0, 0, n
    while true do
        while r ~= 1 do count[r - 1] = r; r = r - 1 end
        for i = 0, n - 1 do perm[i] = perm1[i] end
        local flips, k = 0, perm[0]
        while k ~= 0 do
            local lo, hi = 0, k
            while lo < hi do
                perm[lo], perm[hi] = perm[hi], perm[lo]
                lo = lo + 1; hi = hi - 1
            end
            flips = flips + 1
            k = perm[0]
        end
        if flips > max_flips then max_flips = flips end
        if perm_count % 2 == 0 then checksum = checksum + flips else checksum = checksum - flips end
        while true do
            if r == n then return checksum, max_flips end
            local p0 = perm1[0]
            for j = 0, r - 1 do perm1[j] = perm1[j + 1] end
            perm1[r] = p0
            count[r] = count[r] - 1
            if count[r] > 0 then break end
            r = r + 1
        end
        perm_count = perm_count + 1
    end
end

local c, m = fannkuch(tonumber(arg and arg[1]) or 7)
print(string.format("%d %d", c, m))
