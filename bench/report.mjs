// Statistics, sizes, the machine, and the tables bench/run.mjs prints.

import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import os from 'node:os';
import zlib from 'node:zlib';

import { formatGoals, formatLoadMatrix } from './goals.mjs';
import { formatSizes } from './size.mjs';
import { formatStartupFigures } from './startup-figures.mjs';

// ---- statistics -----------------------------------------------------------------------------

/** Nearest-rank percentile (p in 0..100) of unsorted numbers. */
export function percentile(values, p) {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

export const median = (values) => {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};

/**
 * Latency runs (arrays of ms) → the median over runs of each run's p50 and p99, the spread of
 * the per-run p50s, and p50/p99 of all samples pooled.
 */
export function summarizeLatency(runs) {
  const p50s = runs.map((r) => percentile(r, 50));
  const p99s = runs.map((r) => percentile(r, 99));
  const all = runs.flat();
  return {
    p50: median(p50s),
    p99: median(p99s),
    p50Min: Math.min(...p50s),
    p50Max: Math.max(...p50s),
    pooledP50: percentile(all, 50),
    pooledP99: percentile(all, 99),
    samples: all.length,
  };
}

/** Throughput runs (messages/s) → median and spread. */
export function summarizeThroughput(runs) {
  return { median: median(runs), min: Math.min(...runs), max: Math.max(...runs) };
}

// ---- sizes ----------------------------------------------------------------------------------

/** Bytes of `file` after `gzip -9` (the gzip program if present, else zlib at level 9). */
export function gzipSize(file) {
  try {
    return execFileSync('gzip', ['-9', '-c', file], { maxBuffer: 64 << 20 }).length;
  } catch {
    return zlib.gzipSync(readFileSync(file), { level: 9 }).length;
  }
}

export function fileSizes(file) {
  return { raw: readFileSync(file).length, gzip: gzipSize(file) };
}

// ---- the machine ----------------------------------------------------------------------------

function cpuModel() {
  try {
    const info = readFileSync('/proc/cpuinfo', 'utf8');
    const line = info.split('\n').find((l) => /^model name\s*:/.test(l));
    if (line) return line.replace(/^model name\s*:\s*/, '').trim();
  } catch {
    // not Linux: fall through
  }
  return os.cpus()[0]?.model ?? 'unknown';
}

function firstLine(command, args) {
  try {
    const out = execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return out.split('\n')[0].trim();
  } catch (error) {
    // `mosquitto -h` prints its version and exits with status 3.
    const out = `${error.stdout ?? ''}`.split('\n')[0].trim();
    return out || 'unknown';
  }
}

export function machine({ chromiumVersion, mosquittoPath }) {
  return {
    cpu: cpuModel(),
    cpus: os.availableParallelism?.() ?? os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    chromium: chromiumVersion,
    mosquitto: firstLine(mosquittoPath, ['-h']).replace(/^mosquitto version\s*/, ''),
    // On a shared machine, how busy it was (1, 5 and 15 minutes) when the run ended.
    loadAverage: os.loadavg().map((x) => x.toFixed(2)),
  };
}

// ---- tables ---------------------------------------------------------------------------------

const ms = (x) => x.toFixed(3);
const rate = (x) => Math.round(x).toLocaleString('en-US');
const kb = (bytes) => `${(bytes / 1000).toFixed(1)} KB`;
const ratio = (x) => x.toFixed(2);
const sum = (a, b) => ({ raw: a.raw + b.raw, gzip: a.gzip + b.gzip });

/**
 * Speed goals on a noisy machine: within 2 % of MQTT.js is reported as even rather than as a
 * win or a loss. `r` is ours ÷ MQTT.js; `lowerIsBetter` for latency.
 */
const EVEN_WITHIN = 0.02;
function verdict(r, lowerIsBetter) {
  if (Math.abs(r - 1) <= EVEN_WITHIN) return 'even (±2 %)';
  return (lowerIsBetter ? r < 1 : r > 1) ? 'met' : 'NOT met';
}

/** Markdown tables, so the output can be pasted into docs/benchmarks.md as it is. */
export function formatReport({
  options,
  latency,
  throughput,
  sizes,
  appSize,
  appSizeNoViews,
  crates,
  startup,
  loads,
  machine: m,
  isolated,
}) {
  const lines = [];
  const out = (line = '') => lines.push(line);
  if (latency) formatClient(out, { options, latency, throughput, sizes });
  if (appSize) formatSizes(out, { sizes: appSize, noViews: appSizeNoViews, crates });
  if (startup) formatStartupFigures(out, startup);
  for (const { rate, view, summary } of loads ?? []) {
    formatFrames(out, { options: { ...options, framesRate: rate, framesView: view }, frames: summary });
  }
  if (loads?.length) formatLoadMatrix(out, loads);
  if (appSize || startup || loads?.length) formatGoals(out, { sizes: appSize, startup, loads });
  const frames = loads?.length;
  out('### Machine');
  out();
  out(`- CPU: ${m.cpu}, ${m.cpus} logical CPUs, ${m.memoryGiB} GiB RAM; ${m.os}`);
  out(`- Chromium ${m.chromium} (headless), Mosquitto ${m.mosquitto}, Node.js ${m.node}`);
  out(`- load average at the end of the run (1, 5, 15 min): ${m.loadAverage.join(', ')}`);
  if (isolated !== undefined) {
    const clock = isolated
      ? 'yes (performance.now() to 5 µs)'
      : 'NO (performance.now() coarsened to 100 µs)';
    // The client's page; the app under load is served as users get it (bench/frames.mjs).
    out(`- ${frames ? "client benchmark's page" : 'page'} cross-origin isolated: ${clock}`);
  }
  return lines.join('\n');
}

function formatClient(out, { options, latency, throughput, sizes }) {
  const bytes = options.latencyPayload;
  out(`### Round-trip latency (publish → delivered back), ${bytes}-byte payload`);
  out();
  out(
    `${options.rounds} rounds × ${options.latencyCount} timed messages per client and round. ` +
      'p50 = median over the rounds of each round\'s p50 (min–max of the rounds); ' +
      'all samples = every round pooled. Ratios are ours ÷ MQTT.js: below 1, we are faster.',
  );
  out();
  out(
    '| QoS | broker-bridge p50 ms | MQTT.js p50 ms | p50 ratio ' +
      '| all samples p50 ms, ours / MQTT.js | all samples p99 ms, ours / MQTT.js ' +
      '| p99 ratio | goal ≤ 1 |',
  );
  out('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const { qos, ours, mqttjs } of latency) {
    const r50 = ours.p50 / mqttjs.p50;
    const r99 = ours.pooledP99 / mqttjs.pooledP99;
    const goal = [`p50 ${verdict(r50, true)}`, `p99 ${verdict(r99, true)}`];
    out(
      `| ${qos} | ${ms(ours.p50)} (${ms(ours.p50Min)}–${ms(ours.p50Max)}) ` +
        `| ${ms(mqttjs.p50)} (${ms(mqttjs.p50Min)}–${ms(mqttjs.p50Max)}) | ${ratio(r50)} ` +
        `| ${ms(ours.pooledP50)} / ${ms(mqttjs.pooledP50)} ` +
        `| ${ms(ours.pooledP99)} / ${ms(mqttjs.pooledP99)} | ${ratio(r99)} | ${goal.join(', ')} |`,
    );
  }
  out();
  out(`### Sustained throughput, ${options.throughputPayload}-byte payload`);
  out();
  out(
    `${options.rounds} rounds × ${options.throughputCount} messages published back to back, ` +
      'timed until the last is delivered back; median over rounds (min–max); ' +
      'ratio = ours ÷ MQTT.js (above 1: we are faster).',
  );
  out();
  out('| QoS | broker-bridge msg/s | MQTT.js msg/s | ratio | goal ≥ 1 |');
  out('|---|---:|---:|---:|---|');
  for (const { qos, ours, mqttjs } of throughput) {
    const r = ours.median / mqttjs.median;
    out(
      `| ${qos} | ${rate(ours.median)} (${rate(ours.min)}–${rate(ours.max)}) ` +
        `| ${rate(mqttjs.median)} (${rate(mqttjs.min)}–${rate(mqttjs.max)}) | ${ratio(r)} ` +
        `| ${verdict(r, false)} |`,
    );
  }
  out();
  out('### Size (gzip -9)');
  out();
  const js = sizes.mqttjs.gzip;
  const vs = (bytes, goal) =>
    `${ratio(bytes / js)}${goal ? ` (goal < 0.50: ${bytes / js < 0.5 ? 'met' : 'NOT met'})` : ''}`;
  const row = (label, file, goal) =>
    out(`| ${label} | ${kb(file.raw)} | ${kb(file.gzip)} | ${vs(file.gzip, goal)} |`);
  out('| file | raw | gzip -9 | ÷ mqtt.min.js gzipped |');
  out('|---|---:|---:|---:|');
  const benchLabel =
    'benchmark .wasm: broker-bridge + harness + JsClient of the interop tests ' +
    '(eda_bench_bg.wasm, wasm-opt -Oz)';
  row(benchLabel, sizes.wasm, true);
  row('its wasm-bindgen JS glue (eda_bench.js)', sizes.glue, false);
  if (sizes.clientWasm) {
    const clientLabel =
      'client only .wasm: broker-bridge + a minimal JS binding (client_only_bg.wasm)';
    row(clientLabel, sizes.clientWasm, true);
    row('its wasm-bindgen JS glue (client_only.js)', sizes.clientGlue, false);
    row('client only, .wasm + glue', sum(sizes.clientWasm, sizes.clientGlue), false);
  }
  row('MQTT.js 5: mqtt.min.js', sizes.mqttjs, false);
  out();
}

// ---- the page under load (bench/frames.mjs) -------------------------------------------------

const int = (x) => Math.round(x).toLocaleString('en-US');
const ms1 = (x) => (Number.isFinite(x) ? x.toFixed(1) : '–');
const pct = (x) => `${(100 * x).toFixed(1)} %`;

function formatFrames(out, { options, frames }) {
  const { windows, orders, rounds } = frames;
  const rate = options.framesRate;
  const view = `${frames.viewport.width}×${frames.viewport.height}`;
  out(`### The page under load: ${rate} orders per second, ${frames.views.join(' / ')} in view`);
  out();
  out(
    "The playground's release build in headless Chromium, its five services on a private " +
      'Mosquitto with payment_ms=0 and inventory_ms=0 (QoS 1), saga, dedupe and read model ' +
      'on. ' +
      `${rounds} round${rounds === 1 ? '' : 's'}, each on a fresh page: ` +
      `${options.framesIdleSeconds} s idle, then ${options.framesSeconds} s during which a ` +
      `timer in the page clicks "Place 10 orders" on schedule (${rate} orders/s). ` +
      'Medians over the rounds (min–max). Frame interval = time between two ' +
      'requestAnimationFrame callbacks; long tasks as the browser reports them (> 50 ms); ' +
      `input = a real mouse click every ${frames.probeMs} ms on a box the bench adds, outside ` +
      'the app: delay until the page sees it, and until the next frame starts. ' +
      `Viewport ${view}, scrolled to the ${frames.views.join(' / ')}.`,
  );
  out();
  const cell = (s, f) => `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
  const rows = [
    ['frame interval p50, ms', 'intervalP50', ms1],
    ['frame interval p95, ms', 'intervalP95', ms1],
    ['frame interval p99, ms', 'intervalP99', ms1],
    ['frame interval max, ms', 'intervalMax', ms1],
    ['frames over 50 ms', 'slowShare', pct],
    ['frames per second', 'fps', ms1],
    ['long tasks, count', 'longTasks', int],
    ['long tasks, total ms', 'longTaskMs', int],
    ['long tasks, share of the window', 'longTaskShare', pct],
    ['longest task, ms', 'longTaskMax', int],
    ['input delay p50, ms (event → first listener)', 'inputDelayP50', ms1],
    ['input delay p95, ms', 'inputDelayP95', ms1],
    ['click → next frame p50, ms', 'nextFrameP50', ms1],
    ['click → next frame p95, ms', 'nextFrameP95', ms1],
    ['clicks measured', 'probes', int],
  ];
  out(`| | idle (${options.framesIdleSeconds} s) | under load (${options.framesSeconds} s) |`);
  out('|---|---:|---:|');
  for (const [label, field, f] of rows) {
    out(`| ${label} | ${cell(windows.idle[field], f)} | ${cell(windows.load[field], f)} |`);
  }
  out();
  const perRound = (pick) => frames.atLoadEnd.map(pick).join(', ');
  const seconds = (x) => (x / 1000).toFixed(1);
  const lines = [
    `orders placed per round: ${cell(orders.placed, int)}, ` +
      `at ${cell(orders.rate, ms1)} orders/s ` +
      `(the load timer was at most ${cell(orders.maxLagMs, int)} ms behind schedule)`,
    'seen on the broker by an MQTT.js witness: ' +
      `orders/created ${cell(orders.published, int)}, ` +
      `payments/processed ${cell(orders.payments, int)}, ` +
      `inventory/reserved ${cell(orders.inventory, int)}, ` +
      `orders/confirmed ${cell(orders.confirmed, int)}, ` +
      `orders/cancelled ${cell(orders.cancelled, int)}`,
    "the page's main thread (Chromium's TaskDuration) over the load and its drain: " +
      `${cell(frames.mainThread.msPerOrder, (x) => x.toFixed(2))} ms per order placed, ` +
      `${cell(frames.mainThread.netMsPerOrder, (x) => x.toFixed(2))} ms net of idle; busy ` +
      `${cell(frames.mainThread.busyShare, pct)} of the time (idle: ` +
      `${cell(frames.mainThread.idleBusyShare, pct)})`,
    frames.busyAfter?.busyAfter
      ? `the page turned busy (html[data-busy]) ${cell(frames.busyAfter.busyAfter, int)} ms into the load ` +
        `in ${frames.busyAfter.busyAfter.rounds} of ${frames.rounds} rounds; the longest task before that ` +
        `${cell(frames.busyAfter.longTaskMaxBeforeBusy, int)} ms, once busy ` +
        `${cell(frames.busyAfter.longTaskMaxOnceBusy, int)} ms`
      : 'the page did not turn busy (html[data-busy]) during the load',
    orders.notifications
      ? 'notifications the page received for them (its count of shown + "older not shown"): ' +
        `${cell(orders.notifications, int)}`
      : 'notifications the page received: unknown (no "older notifications not shown" line)',
    `${frames.allComplete ? 'every order completed' : 'NOT every order completed (gave up)'}, ` +
      `${cell(orders.drainMs, seconds)} s after the load ended (polled every 0.2 s)`,
    frames.packetsDropped
      ? "packets dropped from the page's history meanwhile (the count its " +
        `[data-testid="packets-not-shown"] shows): ${cell(frames.packetsDropped, int)}`
      : "packets dropped from the page's history: not readable " +
        `(${frames.packetsNotShown.every((t) => t === null) ? 'no packet inspector in this view' : JSON.stringify(frames.packetsNotShown)})`,
    'probe clicks landed on: ' +
      Object.entries(frames.probeHits)
        .map(([target, n]) => `${target} ${n}×`)
        .join(', ') +
      `; the ${frames.views.join(' / ')} still in view at the end of the load: ` +
      perRound((x) => (x.flowInView ? 'yes' : 'NO')),
    frames.pins.every(Boolean)
      ? `the page moved the ${frames.views.join(' / ')} (lists above it changed height) ` +
        `${frames.pins.map((p) => p.corrections).join(', ')} times, by up to ` +
        `${frames.pins.map((p) => Math.round(p.maxShiftPx)).join(', ')} px; ` +
        'the bench scrolled it back each time'
      : `the ${frames.views.join(' / ')} was not pinned in view`,
    `at the end of the load window: ${perRound((x) => x.pulses)} dots drawn, ` +
      `${perRound((x) => x.pulseOverflow)} aggregated (+N on the edges), ` +
      `${perRound((x) => x.packetRows)} packet rows in the DOM (per round)`,
    'the harness itself (Node: the witness, the probe clicks) used ' +
      `${cell(frames.harnessCpuShare, pct)} of one CPU during the load window`,
    frames.formErrors.length
      ? `the form refused orders: ${frames.formErrors.join('; ')}`
      : 'the form refused no order',
    frames.pageErrors.length
      ? `page errors: ${frames.pageErrors.length} (printed above); no Rust panic`
      : 'page errors: none; no Rust panic',
  ];
  for (const line of lines) out(`- ${line}`);
  for (const note of frames.notes) out(`- note: ${note}`);
  out();
}
