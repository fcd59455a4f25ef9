-- wrk script for scripts/bench-server.sh: POST a client_credentials token request with Basic auth
-- on every request and count the answers that are not 200 (wrk itself counts only socket errors
-- and non-2xx/3xx). Settings come from the environment: BENCH_PATH, BENCH_BASIC (base64
-- client_id:secret), BENCH_BODY.
wrk.method = "POST"
wrk.path = os.getenv("BENCH_PATH")
wrk.body = os.getenv("BENCH_BODY")
wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
wrk.headers["Authorization"] = "Basic " .. os.getenv("BENCH_BASIC")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  bad = 0
end

function response(status, headers, body)
  if status == 200 then
    ok = ok + 1
  else
    bad = bad + 1
    if bad == 1 then
      io.stderr:write("first non-200 answer: " .. status .. " " .. string.sub(body, 1, 300) .. "\n")
    end
  end
end

function done(summary, latency, requests)
  local oks, bads = 0, 0
  for _, t in ipairs(threads) do
    oks = oks + t:get("ok")
    bads = bads + t:get("bad")
  end
  io.write(string.format("WRK ok=%d non200=%d socket_errors=%d duration_us=%d p50_ms=%.2f p99_ms=%.2f\n",
    oks, bads,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration, latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
