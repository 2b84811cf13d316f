// A closed-loop load driver: `concurrency` workers each send requests until `requests` are done
// or `maxSeconds` pass. Latency is measured per request in this (separate) Node process.
import { performance } from 'node:perf_hooks';

export function percentile(sorted, p) {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1);
  return sorted[Math.max(0, i)];
}

/**
 * `send(i)` returns a Response (or a promise of one); `ok(res)` says whether it counts as success;
 * `after(res, body, i)` runs outside the timing.
 * Every response body is read, so keep-alive connections are reused.
 */
export async function run({
  name,
  concurrency = 1,
  requests,
  maxSeconds = 90,
  send,
  ok = (r) => r.status < 400,
  after,
  paceMs = concurrency === 1 ? PACE_MS : 0,
}) {
  const latencies = [];
  const statuses = {};
  let next = 0;
  let failures = 0;
  const deadline = performance.now() + maxSeconds * 1000;
  const started = performance.now();
  let lastStart = 0;
  async function lane() {
    while (next < requests && performance.now() < deadline) {
      const i = next++;
      // Paced: work a request left running in the background (e.g. an email send) finishes
      // before the next one starts, so latency is not the previous request's tail.
      const wait = lastStart + paceMs - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const t0 = performance.now();
      lastStart = t0;
      const res = await send(i);
      const body = await res.arrayBuffer();
      latencies.push(performance.now() - t0);
      statuses[res.status] = (statuses[res.status] ?? 0) + 1;
      if (!ok(res)) failures++;
      // Untimed follow-up work (e.g. cleaning up so the next request is comparable).
      if (after) await after(res, body, i);
    }
  }
  await Promise.all(Array.from({ length: concurrency }, lane));
  const wall = (performance.now() - started) / 1000;
  const sorted = [...latencies].sort((a, b) => a - b);
  return {
    name,
    concurrency,
    requests: latencies.length,
    failures,
    statuses,
    p50_ms: round(percentile(sorted, 50)),
    p95_ms: round(percentile(sorted, 95)),
    p99_ms: round(percentile(sorted, 99)),
    // Paced runs are latency runs: their request rate is set by the pace, not by the server.
    throughput_rps: paceMs ? null : round(latencies.length / wall),
  };
}

/** Minimum time between request starts at concurrency 1 (latency runs); 0 for concurrent runs. */
export const PACE_MS = 30;

export const round = (x, digits = 2) => (Number.isFinite(x) ? Number(x.toFixed(digits)) : null);
