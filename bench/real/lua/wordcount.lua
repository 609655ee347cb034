-- wordcount.lua — make a text of N pseudo-random words, split it (gmatch) and count the words in
-- a table; prints the distinct words and sum(count * length).
local syl = { "ka", "lo", "mi", "ne", "su", "ta", "ri", "po", "ve", "da",
              "xo", "bu", "fe", "gi", "ho", "ju", "ly", "qu", "ze", "wa" }
local n = tonumber(arg and arg[1]) or 1000
local words, seed = {}, 7
for i = 1, n do
    seed = (seed * 16807) % 2147483647
    local r = seed % 8000
    local w = syl[r % 20 + 1] .. syl[math.floor(r / 20) % 20 + 1]
    if r >= 400 then w = w .. syl[math.floor(r / 400) % 20 + 1] end
    words[i] = w
end
local text = table.concat(words, " ")
local counts = {}
for w in string.gmatch(text, "[^ ]+") do counts[w] = (counts[w] or 0) + 1 end
local distinct, weighted = 0, 0
for w, c in pairs(counts) do
    distinct = distinct + 1
    weighted = weighted + c * #w
end
print(string.format("%d %d", distinct, weighted))
