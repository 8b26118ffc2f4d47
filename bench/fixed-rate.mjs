// Fixed-rate load with autocannon's programmatic API (run under Node by bench/load.ts).
// autocannon's own histogram has 1 ms resolution, so every response time (hrtime, float ms) is
// kept here and the percentiles are exact. Prints one JSON line.
// argv: url connections rate seconds headersJson
import autocannon from "autocannon";

const [url, connections, rate, seconds, headersJson] = process.argv.slice(2);
const latencies = [];
let non2xx = 0;
const instance = autocannon({
  url,
  connections: Number(connections),
  overallRate: Number(rate),
  duration: Number(seconds),
  timeout: 5,
  headers: JSON.parse(headersJson),
});
instance.on("response", (_client, statusCode, _bytes, responseTime) => {
  if (statusCode < 200 || statusCode > 299) non2xx++;
  latencies.push(responseTime);
});
const result = await instance;
latencies.sort((a, b) => a - b);
const at = (p) =>
  latencies[Math.max(0, Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1))] ??
  Number.NaN;
console.log(
  JSON.stringify({
    requests: latencies.length,
    seconds: result.duration,
    errors: result.errors + result.timeouts + non2xx,
    p50: at(50),
    p99: at(99),
    p999: at(99.9),
    max: latencies[latencies.length - 1] ?? Number.NaN,
  }),
);
