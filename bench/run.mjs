#!/usr/bin/env node
// broker-bridge against MQTT.js 5, in one headless Chromium page, through one Mosquitto; and
// the real page (the playground's release build): its size (bench/size.mjs), its start-up
// against Mosquitto and aedes (bench/startup-figures.mjs), and, under load, frame times, long
// tasks, input responsiveness and main-thread time per order at each rate and with each
// diagram in view, against an idle baseline (bench/frames.mjs); then issue 14's goals, each
// met or not (bench/goals.mjs).
//
//   node bench/run.mjs [--only client|size|startup|frames] [--quick] [--rounds N]
//                      [--latency-count N] [--latency-payload BYTES] [--throughput-count N]
//                      [--throughput-payload BYTES] [--startup-loads N] [--frames-rounds N]
//                      [--frames-rates 25,50,100] [--frames-rate N]
//                      [--frames-views flow,sequence] [--frames-view flow|sequence]
//                      [--frames-seconds N] [--frames-idle-seconds N] [--app-dir DIR]
//                      [--json FILE]
//
// Builds nothing: scripts/bench builds target/bench-pkg/ (wasm-bindgen --target web output,
// wasm-opt -Oz) and the app (trunk build --release) into target/bench-app/ first (and, for the
// size part, the same app without its views into target/bench-app-no-views/). --quick
// (EDA_BENCH_QUICK=1) is a smoke run: one round of everything, short windows, unless an
// option says otherwise. Each option can also come from the environment: EDA_BENCH_ONLY,
// EDA_BENCH_ROUNDS, EDA_BENCH_LATENCY_COUNT, EDA_BENCH_LATENCY_PAYLOAD,
// EDA_BENCH_THROUGHPUT_COUNT, EDA_BENCH_THROUGHPUT_PAYLOAD, EDA_BENCH_STARTUP_LOADS,
// EDA_BENCH_FRAMES_ROUNDS, EDA_BENCH_FRAMES_RATES (or _RATE), EDA_BENCH_FRAMES_VIEWS (or
// _VIEW), EDA_BENCH_FRAMES_SECONDS, EDA_BENCH_FRAMES_IDLE_SECONDS, EDA_BENCH_APP_DIR,
// EDA_BENCH_JSON. See docs/benchmarks.md for the method.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { mosquittoPath, startBroker } from '../e2e/lib/broker.mjs';
import { launchBrowser, openPage, panics } from '../e2e/lib/browser.mjs';
import { runFrames } from './frames.mjs';
import { appSizes, wasmCrates } from './size.mjs';
import { runStartupFigures } from './startup-figures.mjs';
import {
  fileSizes,
  formatReport,
  machine,
  summarizeLatency,
  summarizeThroughput,
} from './report.mjs';
import { servePage } from './server.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

// `quick`: the value under --quick (a smoke run), when no flag or variable gives one.
const OPTIONS = {
  rounds: { flag: '--rounds', env: 'EDA_BENCH_ROUNDS', value: 5, quick: 1 },
  latencyCount: { flag: '--latency-count', env: 'EDA_BENCH_LATENCY_COUNT', value: 300, quick: 50 },
  latencyPayload: { flag: '--latency-payload', env: 'EDA_BENCH_LATENCY_PAYLOAD', value: 64 },
  throughputCount: {
    flag: '--throughput-count',
    env: 'EDA_BENCH_THROUGHPUT_COUNT',
    value: 5000,
    quick: 1000,
  },
  throughputPayload: {
    flag: '--throughput-payload',
    env: 'EDA_BENCH_THROUGHPUT_PAYLOAD',
    value: 200,
  },
  startupLoads: { flag: '--startup-loads', env: 'EDA_BENCH_STARTUP_LOADS', value: 7, quick: 2 },
  framesRounds: { flag: '--frames-rounds', env: 'EDA_BENCH_FRAMES_ROUNDS', value: 3, quick: 1 },
  framesSeconds: {
    flag: '--frames-seconds',
    env: 'EDA_BENCH_FRAMES_SECONDS',
    value: 10,
    quick: 3,
  },
  framesIdleSeconds: {
    flag: '--frames-idle-seconds',
    env: 'EDA_BENCH_FRAMES_IDLE_SECONDS',
    value: 5,
    quick: 2,
  },
};
/** Lists: comma-separated; the singular flag (--frames-rate 50) is a list of one. */
const LISTS = {
  framesRates: {
    flags: ['--frames-rates', '--frames-rate'],
    envs: ['EDA_BENCH_FRAMES_RATES', 'EDA_BENCH_FRAMES_RATE'],
    value: '25,50,100',
  },
  framesViews: {
    flags: ['--frames-views', '--frames-view'],
    envs: ['EDA_BENCH_FRAMES_VIEWS', 'EDA_BENCH_FRAMES_VIEW'],
    value: 'flow,sequence',
  },
};
const VIEWS = ['flow', 'sequence'];
const PARTS = ['client', 'size', 'startup', 'frames'];
const LATENCY_QOS = [0, 1, 2];
const THROUGHPUT_QOS = [0, 1];
const IMPLS = { ours: 'broker-bridge', mqttjs: 'MQTT.js' };

function usage(message) {
  if (message) console.error(`bench: ${message}`);
  const flags = Object.values(OPTIONS)
    .map((o) => `[${o.flag} N]`)
    .join(' ');
  console.error(
    `usage: node bench/run.mjs [--only ${PARTS.join('|')}] [--quick] ${flags} ` +
      '[--frames-rates N,N…] [--frames-views flow,sequence] [--app-dir DIR] [--json FILE]',
  );
  process.exit(message ? 2 : 0);
}

function parseOptions(argv) {
  const options = {
    json: process.env.EDA_BENCH_JSON ?? path.join(root, 'target/bench-results.json'),
    only: process.env.EDA_BENCH_ONLY || null,
    appDir: process.env.EDA_BENCH_APP_DIR || path.join(root, 'target/bench-app'),
    quick: ['1', 'true', 'yes'].includes(process.env.EDA_BENCH_QUICK ?? ''),
  };
  for (const [name, o] of Object.entries(OPTIONS)) options[name] = process.env[o.env] ?? null;
  for (const [name, o] of Object.entries(LISTS)) {
    options[name] = o.envs.map((env) => process.env[env]).find(Boolean) ?? o.value;
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--help' || arg === '-h') usage();
    if (arg === '--quick') {
      options.quick = true;
      continue;
    }
    const list = Object.entries(LISTS).find(([, o]) => o.flags.includes(arg));
    if (list) {
      options[list[0]] = argv[++i] ?? usage(`${arg} needs a value`);
      continue;
    }
    if (arg === '--json') {
      options.json = argv[++i] ?? usage('--json needs a file');
      continue;
    }
    if (arg === '--only') {
      options.only = argv[++i] ?? usage(`--only needs one of ${PARTS.join(', ')}`);
      continue;
    }
    if (arg === '--app-dir') {
      options.appDir = path.resolve(argv[++i] ?? usage('--app-dir needs a directory'));
      continue;
    }
    const entry = Object.entries(OPTIONS).find(([, o]) => o.flag === arg);
    if (!entry) usage(`unknown argument ${arg}`);
    options[entry[0]] = argv[++i] ?? usage(`${arg} needs a number`);
  }
  for (const [name, o] of Object.entries(OPTIONS)) {
    options[name] ??= options.quick ? (o.quick ?? o.value) : o.value;
  }
  options.framesRates = String(options.framesRates).split(',').map(Number);
  if (!options.framesRates.every((n) => Number.isInteger(n) && n >= 1)) {
    usage('--frames-rates takes whole orders per second ≥ 1, separated by commas');
  }
  options.framesViews = String(options.framesViews).split(',');
  if (!options.framesViews.every((v) => VIEWS.includes(v))) {
    usage(`--frames-views takes ${VIEWS.join(' and/or ')}, separated by commas`);
  }
  for (const name of Object.keys(OPTIONS)) {
    const n = Number(options[name]);
    const min = name.endsWith('Payload') ? 0 : 1;
    if (!Number.isInteger(n) || n < min) {
      usage(`${OPTIONS[name].flag} must be an integer ≥ ${min}`);
    }
    options[name] = n;
  }
  if (options.only !== null && !PARTS.includes(options.only)) {
    usage(`--only must be one of ${PARTS.join(', ')}, not "${options.only}"`);
  }
  return options;
}

/** The runs of one round: every metric, each implementation once, in alternating order. */
function plan(options) {
  const jobs = [
    ...LATENCY_QOS.map((qos) => ({
      metric: 'latency',
      qos,
      count: options.latencyCount,
      payload: options.latencyPayload,
    })),
    ...THROUGHPUT_QOS.map((qos) => ({
      metric: 'throughput',
      qos,
      count: options.throughputCount,
      payload: options.throughputPayload,
    })),
  ];
  const rounds = [];
  for (let round = 0; round < options.rounds; round++) {
    rounds.push(
      jobs.flatMap((job, j) => {
        const order = (round + j) % 2 === 0 ? ['ours', 'mqttjs'] : ['mqttjs', 'ours'];
        return order.map((impl) => ({ ...job, impl }));
      }),
    );
  }
  return rounds;
}

const seconds = (since) => ((Date.now() - since) / 1000).toFixed(1);

function runInPage(page, url, run) {
  return page.evaluate(
    async ({ impl, metric, url, qos, count, payload }) => {
      const result = await window.bench[impl][metric](url, qos, count, payload);
      return typeof result === 'number' ? result : Array.from(result);
    },
    { ...run, url },
  );
}

/** The client's files; throws with what to do when one is missing. Sizes of what was built. */
function clientFiles() {
  const pkg = path.join(root, 'target/bench-pkg');
  const files = {
    wasm: path.join(pkg, 'eda_bench_bg.wasm'),
    glue: path.join(pkg, 'eda_bench.js'),
    mqttjs: path.join(root, 'node_modules/mqtt/dist/mqtt.min.js'),
  };
  for (const file of Object.values(files)) {
    if (!existsSync(file)) {
      const name = path.relative(root, file);
      throw new Error(`${name} is missing: run ./scripts/bench, which builds it`);
    }
  }
  // The harness-free build (bench/examples/client_only.rs) is weighed when it was built.
  const clientOnly = {
    clientWasm: path.join(pkg, 'client-only/client_only_bg.wasm'),
    clientGlue: path.join(pkg, 'client-only/client_only.js'),
  };
  return Object.fromEntries(
    Object.entries({ ...files, ...clientOnly })
      .filter(([, file]) => existsSync(file))
      .map(([name, file]) => [name, fileSizes(file)]),
  );
}

/** broker-bridge against MQTT.js: latency and throughput, interleaved rounds in one page. */
async function clientBench(browser, options, sizes) {
  // Nothing may be dropped: QoS 0 and 1 bursts queue in the broker for the subscriber, and
  // Mosquitto discards what exceeds max_queued_messages (default 1000) without telling anyone.
  const broker = await startBroker({
    logAll: false,
    settings: {
      max_inflight_messages: 20,
      max_queued_messages: Math.max(10_000, 2 * options.throughputCount),
    },
  });
  const server = await servePage(root);
  let app;
  try {
    app = await openPage(browser, server.url, { timeoutMs: 120_000 });
    const { crossOriginIsolated } = await app.page.evaluate(() => window.benchReady);

    const results = [];
    const rounds = plan(options);
    const started = Date.now();
    for (const [r, runs] of rounds.entries()) {
      const t0 = Date.now();
      for (const run of runs) {
        try {
          results.push({ ...run, round: r, result: await runInPage(app.page, broker.wsUrl, run) });
        } catch (error) {
          const found = panics(app);
          throw new Error(
            `${IMPLS[run.impl]} ${run.metric} at QoS ${run.qos} failed in round ${r + 1}: ` +
              `${error.message.split('\n')[0]}` +
              (found.length ? `\n${found.join('\n')}` : ''),
          );
        }
      }
      console.error(`bench: round ${r + 1}/${rounds.length} done in ${seconds(t0)} s`);
    }
    console.error(`bench: ${rounds.length} rounds in ${seconds(started)} s`);
    if (app.errors.length) {
      console.error(`bench: the page reported errors:\n${app.errors.join('\n')}`);
    }

    const pick = (metric, qos, impl) =>
      results
        .filter((x) => x.metric === metric && x.qos === qos && x.impl === impl)
        .map((x) => x.result);
    const latency = LATENCY_QOS.map((qos) => ({
      qos,
      ours: summarizeLatency(pick('latency', qos, 'ours')),
      mqttjs: summarizeLatency(pick('latency', qos, 'mqttjs')),
    }));
    const throughput = THROUGHPUT_QOS.map((qos) => ({
      qos,
      ours: summarizeThroughput(pick('throughput', qos, 'ours')),
      mqttjs: summarizeThroughput(pick('throughput', qos, 'mqttjs')),
    }));
    return { latency, throughput, sizes, isolated: crossOriginIsolated, runs: results };
  } finally {
    await app?.close();
    await server.close();
    await broker.stop();
  }
}

async function main() {
  // scripts/bench asks first, so a typo or --help costs no build.
  if (process.argv[2] === '--check-options') {
    parseOptions(process.argv.slice(3));
    return;
  }
  const options = parseOptions(process.argv.slice(2));
  const want = (part) => options.only === null || options.only === part;
  // Check what each part needs before spending a minute on the other.
  const sizes = want('client') ? clientFiles() : null;
  const needsApp = ['size', 'startup', 'frames'].some(want);
  if (needsApp && !existsSync(path.join(options.appDir, 'index.html'))) {
    throw new Error(
      `${path.relative(root, path.join(options.appDir, 'index.html'))} is missing: run ` +
        './scripts/bench, which builds the app there (trunk build --release)',
    );
  }

  let browser;
  try {
    browser = await launchBrowser();
    const report = { options };
    let runs;
    if (want('client')) {
      const { runs: clientRuns, ...client } = await clientBench(browser, options, sizes);
      Object.assign(report, client);
      runs = clientRuns;
    }
    if (want('size')) {
      report.appSize = appSizes(options.appDir);
      // Built by scripts/bench beside target/bench-app/ only (not for --app-dir).
      const noViews = path.join(root, 'target/bench-app-no-views');
      if (options.appDir === path.join(root, 'target/bench-app') && existsSync(noViews)) {
        report.appSizeNoViews = appSizes(noViews);
      }
      console.error('bench: weighing the wasm by crate (wasm-opt -Oz -g, twiggy)…');
      report.crates = wasmCrates({ root, appDir: options.appDir });
    }
    if (want('startup')) {
      report.startup = await runStartupFigures({
        browser,
        appDir: options.appDir,
        loads: options.startupLoads,
      });
    }
    const frameRounds = [];
    if (want('frames')) {
      report.loads = [];
      // Each view, the rates in the order given: a line of the table per pair.
      for (const view of options.framesViews) {
        for (const rate of options.framesRates) {
          console.error(`bench: the page under load, ${rate} orders/s, ${view} in view…`);
          const frames = await runFrames({
            browser,
            appDir: options.appDir,
            options: { ...options, framesRate: rate, framesView: view },
          });
          report.loads.push({ rate, view, summary: frames.summary });
          frameRounds.push({ rate, view, rounds: frames.rounds });
          const errors = frames.summary.pageErrors;
          if (errors.length) console.error(`bench: the app reported errors:\n${errors.join('\n')}`);
        }
      }
    }
    report.machine = machine({
      chromiumVersion: browser.version(),
      mosquittoPath: mosquittoPath(),
    });
    console.log(formatReport(report));

    mkdirSync(path.dirname(options.json), { recursive: true });
    writeFileSync(options.json, JSON.stringify({ ...report, runs, frameRounds }, null, 1));
    console.error(`bench: every sample in ${path.relative(process.cwd(), options.json)}`);
  } finally {
    await browser?.close();
  }
}

main().catch((error) => {
  console.error(`bench: ${error.message}`);
  process.exit(1);
});
