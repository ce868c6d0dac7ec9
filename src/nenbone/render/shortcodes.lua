-- nenbone: the Quarto features the supplement uses, for plain pandoc (no Quarto installed).
--   metadata-files in the front matter (YAML, merged into the metadata; the document wins) and
--   nenbone.metadata-files set by the renderer (JSON of exact strings, e.g. results/numbers.yml);
--   {{< meta a.b.c >}} / {{< var a.b.c >}} anywhere in text, table cells, captions, metadata;
--   {{< include path >}} alone in a paragraph (relative to the including file, "/" = project root);
--   #fig-/#tbl- labels (on figures, tables or fenced divs) numbered, @fig-x / @tbl-x resolved.
-- Every problem stops the render: error text starts with "NENBONE-ERROR[kind]" for the caller.
local List, stringify, ptype = pandoc.List, pandoc.utils.stringify, pandoc.utils.type

local function fail(kind, msg) error("NENBONE-ERROR[" .. kind .. "] " .. msg .. "\n", 0) end
local function abspath(p, dir)
  return pandoc.path.normalize(pandoc.path.is_absolute(p) and p or pandoc.path.join({dir, p}))
end
local function read_text(path, what)
  local f = io.open(path, "rb")
  if not f then fail("file", what .. " not found: " .. path) end
  local text = f:read("a"); f:close(); return text
end

local function load_yaml(path, name)  -- YAML file -> pandoc Meta (pandoc's own YAML reader)
  local text = read_text(path, "metadata file"):gsub("^%-%-%-[ \t]*\r?\n", "")
  local ok, doc = pcall(pandoc.read, "---\n" .. text .. "\n---\n", "markdown")
  if not ok then fail("yaml", "cannot parse metadata file " .. name .. ": " .. tostring(doc)) end
  return doc.meta
end
local function merge(into, from, override)  -- deep merge of maps
  for k, v in pairs(from) do
    local a, b = ptype(into[k]), ptype(v)
    if (a == "table" or a == "Meta") and (b == "table" or b == "Meta") then merge(into[k], v, override)
    elseif into[k] == nil or override then into[k] = v end
  end
end

-- state: src/dir (the document), root (project root), meta (document metadata, with the front
-- matter's metadata-files), numbers (JSON files from the renderer), vars (_variables.yml)
local S = {}

local function lookup(tbl, key)
  local v = tbl
  for part in key:gmatch("[^.]+") do
    local t = ptype(v)
    if t ~= "table" and t ~= "Meta" then return nil end
    v = v[part]
  end
  return v
end
local function value_inlines(kind, key, where)
  local v = kind == "var" and lookup(S.vars, key) or nil
  if v == nil then v = lookup(S.meta, key) end
  if v == nil then v = lookup(S.numbers, key) end
  if v == nil then
    local names = List(S.sources)
    if kind == "var" and S.varfile then names:insert(1, S.varfile) end
    local files = #names > 0 and table.concat(names, ", ") or "the document metadata"
    fail("missing-key", "missing key '" .. key .. "' in " .. files .. " (referenced in " .. where .. ")")
  end
  local t, ref = ptype(v), " (referenced in " .. where .. ")"
  if t == "table" or t == "List" or t == "Meta" then
    fail("not-a-value", "key '" .. key .. "' is a group of values, not one value" .. ref)
  end
  if v == pandoc.json.null or stringify(v) == "" then fail("empty-value", "key '" .. key .. "' is empty (null)" .. ref) end
  if t == "Inlines" then return v:clone() end
  if t == "Blocks" and #v == 1 and (v[1].t == "Para" or v[1].t == "Plain") then return v[1].content:clone() end
  return pandoc.Inlines({pandoc.Str(type(v) == "string" and v or stringify(v))})
end

-- Shortcodes arrive split into Str/Space tokens; join each run of text, substitute, re-split.
local SC = "{{<%s*(%a+)%s+([^%s>]+)%s*>}}"
local function expand_run(text, where)
  local out, pos = pandoc.Inlines({}), 1
  local function add_text(s)
    local first = true
    for piece in (s .. " "):gmatch("(.-) ") do
      if not first then out:insert(pandoc.Space()) end
      if piece ~= "" then out:insert(pandoc.Str(piece)) end
      first = false
    end
  end
  while true do
    local s, e, name, key = text:find(SC, pos)
    if not s then break end
    if name ~= "meta" and name ~= "var" then
      fail("shortcode", "unsupported shortcode '" .. text:sub(s, e) .. "' in " .. where)
    end
    add_text(text:sub(pos, s - 1)); out:extend(value_inlines(name, key, where)); pos = e + 1
  end
  add_text(text:sub(pos)); return out
end
local function shortcode_filter(where)
  return { Inlines = function(inls)
    local out, run, toks = pandoc.Inlines({}), "", pandoc.Inlines({})
    local function flush()
      if run:find("{{<", 1, true) then out:extend(expand_run(run, where)) else out:extend(toks) end
      run, toks = "", pandoc.Inlines({})
    end
    for _, el in ipairs(inls) do
      if el.t == "Str" then run = run .. el.text; toks:insert(el)
      elseif el.t == "Space" or el.t == "SoftBreak" then run = run .. " "; toks:insert(el)
      else flush(); out:insert(el) end
    end
    flush(); return out
  end }
end
local function walk_meta(v, f)
  local t = ptype(v)
  if t == "Inlines" or t == "Blocks" then return v:walk(f) end
  if t == "table" or t == "List" then for k, x in pairs(v) do v[k] = walk_meta(x, f) end end
  return v
end

local function include_target(b)  -- path if the block is exactly {{< include path >}}
  if b.t ~= "Para" and b.t ~= "Plain" then return nil end
  return stringify(b.content):match("^{{<%s*include%s+(.-)%s*>}}$")
end
local function expand_includes(blocks, file, depth)
  if depth > 10 then fail("include", "includes nested more than 10 deep (a cycle?) at " .. file) end
  return blocks:walk({ Blocks = function(bl)
    local out = pandoc.Blocks({})
    for _, b in ipairs(bl) do
      local target = include_target(b)
      if target then
        target = target:gsub('^"(.*)"$', "%1")
        local path = target:sub(1, 1) == "/" and abspath(target:sub(2), S.root)
          or abspath(target, pandoc.path.directory(file))
        local ok, sub = pcall(pandoc.read, read_text(path, "include file"), "markdown", PANDOC_READER_OPTIONS)
        if not ok then fail("include", "cannot read include file " .. path .. ": " .. tostring(sub)) end
        local blocks2 = expand_includes(sub.blocks, path, depth + 1)
        out:extend(blocks2:walk(shortcode_filter(pandoc.path.make_relative(path, S.root))))
      else out:insert(b) end
    end
    return out
  end })
end

-- Cross-references: fenced divs become native figures/tables, then number in document order.
local PREFIX = { fig = "Figure", tbl = "Table" }
local function kind_of(id) return id and id:match("^(%a%a%a)%-") or nil end
local function caption_from(blocks)  -- last paragraph of a crossref div is its caption
  local last = blocks[#blocks]
  if last and (last.t == "Para" or last.t == "Plain") then
    local body = pandoc.Blocks({})
    for i = 1, #blocks - 1 do body:insert(blocks[i]) end
    return body, pandoc.Caption({pandoc.Plain(last.content)})
  end
  return blocks, nil
end
-- Quarto's tbl-colwidths="[30,70]" on a table's div: relative column widths (else natural widths)
local function set_colwidths(tbl, spec, id)
  if not spec then return end
  local widths, total = {}, 0
  for w in spec:gmatch("[^%[%],%s]+") do
    local n = tonumber(w)
    if not n or n <= 0 then fail("crossref", "div #" .. id .. ": tbl-colwidths has '" .. w .. "', not a positive number") end
    widths[#widths + 1] = n; total = total + n
  end
  if #widths ~= #tbl.colspecs then
    fail("crossref", "div #" .. id .. ": tbl-colwidths gives " .. #widths .. " widths for " .. #tbl.colspecs .. " columns")
  end
  for i, w in ipairs(widths) do tbl.colspecs[i] = {tbl.colspecs[i][1], w / total} end
end
local function div_to_native(div)
  local kind = kind_of(div.identifier)
  if kind ~= "fig" and kind ~= "tbl" then return nil end
  local body, cap = caption_from(div.content)
  if kind == "fig" and #body == 1 and body[1].t == "Figure" then
    body[1].identifier = div.identifier; body[1].caption = cap or body[1].caption; return body[1]
  end
  if kind == "tbl" then
    if #body ~= 1 or body[1].t ~= "Table" then
      fail("crossref", "div #" .. div.identifier .. " must hold one table and a caption paragraph")
    end
    body[1].identifier = div.identifier; body[1].caption = cap or body[1].caption
    set_colwidths(body[1], div.attributes["tbl-colwidths"], div.identifier); return body[1]
  end
  return pandoc.Figure(body, cap or pandoc.Caption(), pandoc.Attr(div.identifier))
end
local function label_caption(el, label)
  local lab = pandoc.Span({pandoc.Strong({pandoc.Str(label .. ".")})}, {class = "nb-caption-label"})
  local long = el.caption.long
  if #long == 0 or (long[1].t ~= "Plain" and long[1].t ~= "Para") then long:insert(1, pandoc.Plain({}))
  end
  long[1].content = pandoc.Inlines({lab, pandoc.Space()}) .. long[1].content
  if #long[1].content == 2 then long[1].content:remove(2) end
  el.caption.long = long
end

local function fix_image(img)  -- image must exist; PDF (typst): path from the project root
  local path = abspath(img.src, S.dir)
  local f = io.open(path, "rb")
  if not f then fail("image", "image not found: " .. img.src .. " (looked for " .. path .. ")") end
  f:close()
  if FORMAT:match("typst") then
    -- PDF: the vector figure the rule wrote beside the PNG (the PNG is for HTML), placed at the
    -- size it is drawn (any width is for the HTML only): its text prints at the house style's sizes
    local vector = path:gsub("%.png$", ".pdf")
    if vector ~= path then
      local g = io.open(vector, "rb")
      if g then g:close(); path = vector; img.attributes.width = nil; img.attributes.height = nil end
    end
    local rel = pandoc.path.make_relative(path, S.root)
    if rel:sub(1, 2) == ".." or pandoc.path.is_absolute(rel) then
      fail("image", "image " .. img.src .. " lies outside the project root " .. S.root)
    end
    img.src = "/" .. rel
  end
  return img
end

-- A number in a table cell ("1.78 (1.16–2.74)", "< 0.001", "861/990 (87%)") is never broken over
-- lines (typst: a box as wide as the number, template.typ's nbnum; HTML: a span the stylesheet keeps on one line), so the text
-- columns wrap instead.
local NUMERIC = "^[%d%s%.,;:%(%)%%<>=/+%-\u{2013}\u{2212}\u{2014}]+$"
local function numbers_whole(tbl)
  if FORMAT:match("html") then  -- an identifier in a cell (n_screened) may break after an underscore
    tbl = tbl:walk({ Str = function(s)
      if not s.text:find("_.") then return nil end
      local out = pandoc.Inlines({})
      for piece in s.text:gmatch("[^_]*_?") do
        if piece ~= "" then out:insert(pandoc.Str(piece)); if piece:sub(-1) == "_" then out:insert(pandoc.RawInline("html", "<wbr>")) end end
      end
      return out
    end })
  end
  return tbl:walk({ Plain = function(p)
    local s = stringify(p)
    if not (s:find("%d") and s:find("[ \u{2013}%-]") and s:match(NUMERIC)) then return nil end
    if FORMAT:match("typst") then
      return pandoc.Plain(pandoc.Inlines({pandoc.RawInline("typst", "#nbnum[")}) .. p.content
        .. pandoc.Inlines({pandoc.RawInline("typst", "]")}))
    end
    return pandoc.Plain({pandoc.Span(p.content, {class = "nb-num"})})
  end })
end

-- PDF: a paragraph ending in a colon introduces the table after it ("Inputs (SHA-256):") and
-- stays on its page.
local function keep_leads_with_tables(blocks)
  if not FORMAT:match("typst") then return blocks end
  return blocks:walk({ Blocks = function(bl)
    local out = pandoc.Blocks({})
    for i, b in ipairs(bl) do
      local nxt = bl[i + 1]
      if b.t == "Para" and nxt and (nxt.t == "Table" or nxt.t == "Figure") and stringify(b):match(":%s*$") then
        out:extend({pandoc.RawBlock("typst", "#block(sticky: true)["), b, pandoc.RawBlock("typst", "]")})
      else out:insert(b) end
    end
    return out
  end })
end

function Pandoc(doc)
  local cwd = pandoc.system.get_working_directory()
  S.src = abspath(PANDOC_STATE.input_files[1] or "stdin.md", cwd)
  S.dir = pandoc.path.directory(S.src)
  local nb = doc.meta.nenbone or {}
  S.root = nb["resource-root"] and stringify(nb["resource-root"]) or S.dir
  S.meta, S.numbers, S.vars, S.sources = doc.meta, {}, {}, {}
  for _, f in ipairs(doc.meta["metadata-files"] or {}) do  -- YAML, read by pandoc; the document wins
    merge(S.meta, load_yaml(abspath(stringify(f), S.dir), stringify(f)), false)
    table.insert(S.sources, stringify(f))
  end
  for _, f in ipairs(nb["metadata-files"] or {}) do  -- JSON of strings, from the renderer; later wins
    merge(S.numbers, pandoc.json.decode(read_text(stringify(f.path), "metadata file"), false), true)
    table.insert(S.sources, stringify(f.name))
  end
  local varfile = pandoc.path.join({S.dir, "_variables.yml"})
  local vf = io.open(varfile, "r")
  if vf then vf:close(); S.varfile = "_variables.yml"; S.vars = load_yaml(varfile, S.varfile) end
  S.meta.nenbone = nil

  local here = pandoc.path.filename(S.src)
  local blocks = expand_includes(doc.blocks, S.src, 1):walk(shortcode_filter(here))
  for k, v in pairs(S.meta) do S.meta[k] = walk_meta(v, shortcode_filter(here .. " metadata")) end
  pandoc.Pandoc(blocks, S.meta):walk({ Str = function(s)
    if s.text:find("{{<", 1, true) or s.text:find(">}}", 1, true) then
      fail("shortcode", "malformed or misplaced shortcode near '" .. s.text .. "' in " .. here)
    end
  end })

  blocks = blocks:walk({ Div = div_to_native, Image = fix_image })
  blocks = blocks:walk({ Table = numbers_whole })
  blocks = keep_leads_with_tables(blocks)
  local count, labels = { fig = 0, tbl = 0 }, {}
  local function number(el)
    local kind = kind_of(el.identifier)
    if PREFIX[kind] then
      if labels[el.identifier] then fail("crossref", "label #" .. el.identifier .. " used twice") end
      count[kind] = count[kind] + 1
      labels[el.identifier] = { prefix = PREFIX[kind], n = tostring(count[kind]) }
      label_caption(el, PREFIX[kind] .. "\u{a0}" .. count[kind]); return el
    end
  end
  blocks = blocks:walk({ traverse = "topdown", Figure = number, Table = number })
  blocks = blocks:walk({ Cite = function(cite)
    local refs = cite.citations:filter(function(c) return PREFIX[kind_of(c.id)] end)
    if #refs == 0 then return nil end
    if #refs < #cite.citations then
      fail("crossref", "cross-references and citations mixed in one bracket: " .. stringify(cite.content))
    end
    local out = pandoc.Inlines({})
    for i, c in ipairs(refs) do
      local l = labels[c.id] or fail("crossref", "unknown cross-reference @" .. c.id .. " in " .. here
        .. " (no figure or table carries the label #" .. c.id .. ")")
      if i > 1 then out:extend({pandoc.Str(","), pandoc.Space()}) end
      out:extend(c.prefix); if #c.prefix > 0 then out:insert(pandoc.Space()) end
      local text = c.mode == "SuppressAuthor" and l.n or (l.prefix .. "\u{a0}" .. l.n)
      out:insert(pandoc.Link({pandoc.Str(text)}, "#" .. c.id, "", {class = "nb-xref"}))
      out:extend(c.suffix)
    end
    return out
  end })
  return pandoc.Pandoc(blocks, S.meta)
end
