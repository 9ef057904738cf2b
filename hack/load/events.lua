-- wrk script: posts server events to the collector's POST /v1/events, the way
-- a shop's backend reports sales, and counts what the collector acknowledged.
--
--   LOAD_INGEST_KEY=... wrk -t2 -c50 -d30s -s events.lua http://127.0.0.1:PORT/v1/events -- EVENTS NONCE SITE
--
-- EVENTS is the number of events per request (1 to 500), NONCE starts every
-- event_id of the run, so the run's stored events can be counted afterwards
-- (event_id LIKE 'NONCE-%'), and SITE is the site in the body. The ingest key
-- comes from the environment, not the command line that `ps` shows.
--
-- Every event_id is unique across threads and connections: NONCE-THREAD-
-- REQUEST-INDEX, where THREAD is numbered by setup() in the main state.
--
-- done() prints one line starting "RESULT " with key=value pairs that run.sh
-- reads; latencies are in microseconds.

local threads = {}

function setup(thread)
  thread:set("tid", #threads + 1)
  table.insert(threads, thread)
end

-- Per-thread state (each wrk thread runs its own Lua state).
local events_per_request, nonce, site, key
local requests_made = 0
sent_events, body_bytes = 0, 0
ok_answers, accepted, duplicates, rejected = 0, 0, 0, 0
throttled, unavailable, other_answers = 0, 0, 0

function init(args)
  events_per_request = tonumber(args[1])
  nonce, site = args[2], args[3]
  key = os.getenv("LOAD_INGEST_KEY")
  if not events_per_request or events_per_request < 1 or events_per_request > 500
      or not nonce or not site or not key or key == "" then
    io.stderr:write("events.lua: usage: LOAD_INGEST_KEY=KEY wrk ... -s events.lua URL -- EVENTS(1-500) NONCE SITE\n")
    os.exit(2)
  end
  wrk.method = "POST"
  wrk.headers["Authorization"] = "Bearer " .. key
  wrk.headers["Content-Type"] = "application/json"
end

-- A few browsers, so the collector's user-agent parsing sees variety.
local user_agents = {
  "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
  "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
  "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
}

-- One purchase as a shop backend reports it: about 850 bytes of JSON with
-- matching data (raw email and phone, which the collector hashes), the end
-- user's IP and user agent, attribution, consent and order properties.
-- Every event differs in its id, order, value, URL, click id, email, phone,
-- IP and user agent. One string.format per event: wrk shares the machine
-- with the collector and PostgreSQL, so the less CPU it spends building
-- requests, the more of the machine measures the collector.
local purchase_format = table.concat({
  '{"event_id":"%s","type":"conversion","name":"purchase","timestamp":"%s",',
  '"value":%d.%02d,"currency":"EUR","order_id":"%s",',
  '"url":"https://shop.example.com/checkout/thank-you?order=%d",',
  '"referrer":"https://shop.example.com/cart",',
  '"utm":{"source":"google","medium":"cpc","campaign":"winter_sale_2026"},',
  '"click_ids":{"gclid":"Cj0KCQiA4L67BhDUARIsADWrl7H%d"},',
  '"user":{"email":"Customer.%d@Example.com","phone":"+49 151 %d",',
  '"ip":"203.0.113.%d","user_agent":"%s"},',
  '"consent":{"ad_storage":"granted","analytics_storage":"granted","ad_user_data":"granted","ad_personalization":"denied"},',
  '"properties":{"items":[{"sku":"TRAIL-42-BLU","quantity":1,"price":89.95}],"coupon":"WINTER10"}}',
})

local function purchase(id, n, now)
  local cents = 1000 + (n * 7919) % 50000
  return string.format(purchase_format, id, now, math.floor(cents / 100), cents % 100, id,
    n, n, n, 10000000 + n % 89999999, n % 254 + 1, user_agents[n % #user_agents + 1])
end

-- The request line and headers are the same for every request; only
-- Content-Length and the body change. wrk.format would rebuild them each time.
local request_head
local now, now_second = nil, nil
local events = {}

local function head()
  local lines = { "POST " .. wrk.path .. " HTTP/1.1" }
  for name, value in pairs(wrk.headers) do
    if name ~= "Content-Length" then
      table.insert(lines, name .. ": " .. value)
    end
  end
  table.insert(lines, "Content-Length: ")
  return table.concat(lines, "\r\n")
end

function request()
  requests_made = requests_made + 1
  local second = os.time()
  if second ~= now_second then
    now, now_second = os.date("!%Y-%m-%dT%H:%M:%SZ", second), second
  end
  request_head = request_head or head()
  local prefix = nonce .. "-" .. tid .. "-" .. requests_made .. "-"
  for i = 1, events_per_request do
    events[i] = purchase(prefix .. i, requests_made * events_per_request + i, now)
  end
  local body = '{"site":"' .. site .. '","events":[' .. table.concat(events, ",", 1, events_per_request) .. "]}"
  sent_events = sent_events + events_per_request
  body_bytes = body_bytes + #body
  return request_head .. #body .. "\r\n\r\n" .. body
end

function response(status, headers, body)
  if status == 200 then
    ok_answers = ok_answers + 1
    accepted = accepted + (tonumber(body:match('"accepted":(%d+)')) or 0)
    duplicates = duplicates + (tonumber(body:match('"duplicates":(%d+)')) or 0)
    if not body:find('"rejected":[]', 1, true) then
      local _, n = body:gsub('"index":', "")
      rejected = rejected + n
    end
  elseif status == 429 then
    throttled = throttled + 1
  elseif status == 503 then
    unavailable = unavailable + 1
  else
    other_answers = other_answers + 1
  end
end

function done(summary, latency, requests)
  local total = {}
  for _, name in ipairs({ "sent_events", "body_bytes", "ok_answers", "accepted", "duplicates",
      "rejected", "throttled", "unavailable", "other_answers" }) do
    total[name] = 0
    for _, t in ipairs(threads) do
      total[name] = total[name] + t:get(name)
    end
  end
  local seconds = summary.duration / 1e6
  local e = summary.errors
  io.write(string.format(
    "RESULT seconds=%.2f requests=%d requests_per_s=%.0f events_per_s=%.0f p50_us=%d p90_us=%d p99_us=%d max_us=%d " ..
    "sent_events=%d bytes_per_event=%.0f ok_answers=%d accepted=%d duplicates=%d rejected=%d " ..
    "throttled=%d unavailable=%d other_answers=%d connect_errors=%d read_errors=%d write_errors=%d timeouts=%d\n",
    seconds, summary.requests, summary.requests / seconds, total.accepted / seconds,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    total.sent_events, total.sent_events > 0 and total.body_bytes / total.sent_events or 0,
    total.ok_answers, total.accepted, total.duplicates, total.rejected,
    total.throttled, total.unavailable, total.other_answers,
    e.connect, e.read, e.write, e.timeout))
end
