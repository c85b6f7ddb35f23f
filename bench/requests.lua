-- wrk script: each wrk thread replays its own list of pre-signed requests.
--   wrk ... URL -- FILE_PREFIX MODE BODY_BYTES
-- FILE_PREFIX.N holds thread N's lines, "METHOD /path?query" (SigV4 query-signed URLs made
-- by bench/, so wrk sends authenticated requests without signing anything itself).
-- MODE "loop": rotate through the lines until wrk's -d ends.
-- MODE "once": send each line once (read lazily, so millions of lines are fine), then stop.
-- BODY_BYTES: body size for PUT requests.
-- In once mode each thread that runs out writes FILE_PREFIX.done.N.
-- done() prints one machine-readable line: "BENCH requests=.. duration_us=.. p50_us=.. ..."

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_ts;
int clock_gettime(int clk, bench_ts *ts);
]]
local ts = ffi.new("bench_ts")
local function now_us()
  ffi.C.clock_gettime(1, ts)  -- CLOCK_MONOTONIC
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local counter = 0
local threads = {}

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  threads[#threads + 1] = thread
end

function init(args)
  local prefix, mode, size = args[1], args[2], tonumber(args[3] or "0")
  marker = prefix .. ".done." .. id
  once = (mode == "once")
  body = nil
  if size and size > 0 then body = string.rep("b", size) end
  file = assert(io.open(prefix .. "." .. id, "r"))
  lines = {}
  idx = 0
  if not once then
    for l in file:lines() do lines[#lines + 1] = l end
    file:close()
    -- each connection starts at a different offset already because requests interleave
  end
  last = nil
  t_start = 0
  t_end = 0
end

local function build(line)
  local sp = string.find(line, " ", 1, true)
  local method = string.sub(line, 1, sp - 1)
  local path = string.sub(line, sp + 1)
  if method == "PUT" then
    return wrk.format(method, path, nil, body or "")
  end
  return wrk.format(method, path, nil, nil)
end

function request()
  local line
  if t_start == 0 then t_start = now_us() end
  if once then
    line = file:read("*l")
    if line == nil then
      if t_end == 0 then
        t_end = now_us()
        -- tell bench/ this thread is through (wrk itself sleeps the whole -d; bench/
        -- sends SIGINT, which ends the sleep, once every thread has written its marker)
        local m = io.open(marker, "w")
        if m then m:close() end
      end
      wrk.thread:stop()
      return last
    end
  else
    idx = idx % #lines + 1
    line = lines[idx]
  end
  last = build(line)
  return last
end

function done(summary, latency, requests)
  local e = summary.errors
  -- wrk's own duration is always -d; when every thread ran out of lines first, use the
  -- span from the first request to the last thread running out instead.
  local duration = summary.duration
  local first, last_end, all_ended = nil, 0, true
  for _, t in ipairs(threads) do
    local s0, s1 = t:get("t_start"), t:get("t_end")
    if s1 == nil or s1 == 0 then all_ended = false end
    if s0 and s0 > 0 and (first == nil or s0 < first) then first = s0 end
    if s1 and s1 > last_end then last_end = s1 end
  end
  if all_ended and first then duration = last_end - first end
  io.write(string.format(
    "BENCH requests=%d duration_us=%d bytes=%d p50_us=%d p90_us=%d p99_us=%d mean_us=%.1f " ..
    "err_connect=%d err_read=%d err_write=%d err_status=%d err_timeout=%d\n",
    summary.requests, duration, summary.bytes,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.mean,
    e.connect, e.read, e.write, e.status, e.timeout))
end
