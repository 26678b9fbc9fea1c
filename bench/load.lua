-- wrk script: replay pre-generated requests, each exactly once, then stop.
-- File format (bench/generate.py): one request per line, fields separated by tabs:
--   path <TAB> header: value <TAB> ... <TAB> body
-- Arguments after `--`: the file, a pause in ms between a connection's requests (0 = as fast as
-- possible; used for the fixed-rate latency runs), and a marker file written when the last
-- response arrives (the runner then interrupts wrk, whose clock would otherwise run to -d).
-- Run with -t1: one thread drives all connections, far more than this machine can serve.

function init(args)
  pause = tonumber(args[2] or "0")
  marker = args[3]
  requests, sent, answered = {}, 0, 0
  for line in io.lines(args[1]) do
    local parts = {}
    for field in (line .. "\t"):gmatch("([^\t]*)\t") do table.insert(parts, field) end
    local headers = {}
    for i = 2, #parts - 1 do
      local k, v = parts[i]:match("^([^:]+): (.*)$")
      if k then headers[k] = v end
    end
    table.insert(requests, wrk.format("POST", parts[1], headers, parts[#parts]))
  end
  spare = wrk.format("GET", "/bench-spare")  -- answered 404 everywhere; not counted below
end

function delay()
  return pause
end

function request()
  if not primed then  -- wrk calls request() once before connecting and never sends that one
    primed = true
    return spare
  end
  sent = sent + 1
  if sent > #requests then return spare end  -- the last connections' final round: never a repeat
  return requests[sent]
end

function response(status, headers, body)
  if status == 404 then return end  -- a spare request: the real ones may still be in flight
  answered = answered + 1
  if answered == #requests then
    if marker then local f = io.open(marker, "w"); f:write("done"); f:close() end
    wrk.thread:stop()
  end
end

function done(summary, latency, requests_)
  local p = function(q) return latency:percentile(q) / 1000.0 end
  io.write(string.format("BENCH requests=%d duration_s=%.3f p50_ms=%.3f p99_ms=%.3f non2xx=%d\n",
    summary.requests, summary.duration / 1e6, p(50), p(99), summary.errors.status))
end
