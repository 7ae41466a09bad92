-- wrk script: POST /v1/classify, cycling through the bodies in BODIES (one JSON body per line,
-- written by make_reviews.py). Prints latency percentiles and the non-2xx count at the end.
--   BODIES=/tmp/reviews.jsonl wrk -t2 -c32 -d60s -s classify.lua http://127.0.0.1:8080
local bodies = {}
for line in io.lines(os.getenv("BODIES") or "/tmp/serve-reviews.jsonl") do
  if #line > 0 then bodies[#bodies + 1] = line end
end
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
end

function init(args)
  index = id * 7919
end

function request()
  index = index + 1
  return wrk.format("POST", "/v1/classify", {["Content-Type"] = "application/json"}, bodies[(index % #bodies) + 1])
end

function done(summary, latency, requests)
  io.write(string.format("requests %d in %.1f s: %.1f req/s\n", summary.requests, summary.duration / 1e6,
                         summary.requests / (summary.duration / 1e6)))
  for _, p in ipairs({50, 90, 99, 99.9}) do
    io.write(string.format("latency p%s %.1f ms\n", p, latency:percentile(p) / 1000))
  end
  io.write(string.format("errors: connect %d, read %d, write %d, timeout %d, non-2xx %d\n", summary.errors.connect,
                         summary.errors.read, summary.errors.write, summary.errors.timeout, summary.errors.status))
end
