// Where the page's main-thread time goes per order, and what happens between navigation and
// the first WebSocket (issue 14, analysis). Not part of ./scripts/bench: a one-off probe.
//
//   node bench/profile/per-order.mjs --app-dir /tmp/i14-relg [--rate 100] [--seconds 10]
//        [--startup-runs 5] [--view flow|sequence] [--trace-out /tmp/trace.json]
//
// --app-dir: Trunk's release output. For function names in the profile, replace its
// *_bg.wasm by the same module optimised with names kept (`wasm-opt -Oz -g`, see
// bench/profile/README.md); the startup figures should be taken on the stripped one.
//
// 1. Startup (--startup-runs fresh pages): navigation → wasm fetched → compiled/instantiated →
//    first DOM written by Yew → first `new WebSocket` → each socket open → all four services
//    `connected` (status-* badges), all in performance.now() time of the page (0 = navigation).
// 2. Load: one more page, warmed up as bench/frames.mjs does (one order, then 100 at 100/s),
//    then a Chrome trace (devtools.timeline + V8 CPU profiler samples) of `seconds` at `rate`
//    orders per second (the page clicks its own "Place 10 orders", as bench/frames.mjs) and the
//    drain after it, and the same trace of an idle window of as many seconds for a baseline.
//    Reports main-thread ms per order split by what ran.

import { writeFile } from 'node:fs/promises';

import { startBroker } from '../../e2e/lib/broker.mjs';
import { launchBrowser, openPage, panics } from '../../e2e/lib/browser.mjs';
import { serveDir } from '../../e2e/lib/serve.mjs';
import { median } from '../report.mjs';
import { loadOnce } from '../startup.mjs';

const args = Object.fromEntries(
  process.argv.slice(2).reduce((pairs, a, i, all) => {
    if (a.startsWith('--')) pairs.push([a.slice(2), all[i + 1]?.startsWith('--') ? '' : all[i + 1] ?? '']);
    return pairs;
  }, []),
);
const APP_DIR = args['app-dir'] ?? 'target/bench-app';
const RATE = Number(args.rate ?? 100);
const SECONDS = Number(args.seconds ?? 10);
const STARTUP_RUNS = Number(args['startup-runs'] ?? 5);
const VIEW = args.view ?? 'flow';
const SERVICES = ['order', 'payment', 'inventory', 'notification'];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
// ---- load, traced -------------------------------------------------------------------------

function startLoad({ rate, seconds }) {
  const ten = document.querySelector('[data-testid="place-ten"]');
  const one = document.querySelector('[data-testid="place-order"]');
  const burst = rate >= 10 ? 10 : 1;
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  const load = { t0, placed: 0 };
  load.done = new Promise((resolve) => {
    const timer = setInterval(() => {
      const now = performance.now();
      const due = Math.min(total, Math.floor(((now - t0) * rate) / 1000));
      while (due - load.placed >= burst) {
        (burst === 10 ? ten : one).click();
        load.placed += burst;
      }
      if (now - t0 >= seconds * 1000) {
        while (load.placed < total) {
          one.click();
          load.placed += 1;
        }
      }
      if (load.placed >= total) {
        clearInterval(timer);
        resolve({ placed: load.placed, t1: performance.now() });
      }
    }, 10);
  });
  window.__edaLoad = load;
  return t0;
}

/**
 * --mutations: a MutationObserver on the whole page counts the DOM changes of the load by the
 * region they fall in (the nearest ancestor with a data-testid, or the nearest section's
 * heading) and by kind (nodes added, removed, attribute name, text): which parts of the page
 * redraw per order.
 */
function countMutations() {
  const counts = {};
  const regionOf = (node) => {
    const el = node.nodeType === 1 ? node : node.parentElement;
    const tagged = el?.closest('[data-testid]');
    const section = el?.closest('section');
    const heading = section?.querySelector('h2,h3')?.textContent.trim().slice(0, 30);
    return `${heading?.replace(/\d[\d,]*/g, 'N') ?? '(no section)'} / ${tagged?.getAttribute('data-testid') ?? '-'}`;
  };
  const add = (region, kind, n = 1) => {
    const r = (counts[region] ??= {});
    r[kind] = (r[kind] ?? 0) + n;
  };
  new MutationObserver((records) => {
    for (const m of records) {
      const region = regionOf(m.target);
      if (m.type === 'childList') {
        if (m.addedNodes.length) add(region, 'added', m.addedNodes.length);
        if (m.removedNodes.length) add(region, 'removed', m.removedNodes.length);
      } else if (m.type === 'attributes') add(region, `@${m.attributeName}`);
      else add(region, 'text');
    }
  }).observe(document.body, { subtree: true, childList: true, attributes: true, characterData: true });
  window.__edaMutations = counts;
}

const notificationsShown = () =>
  document.querySelectorAll('[data-testid="notification"]').length;

/** Notifications shown + "N older notifications not shown". */
function notificationTotal() {
  const n = document.querySelectorAll('[data-testid="notification"]');
  const section = n[0]?.closest('section');
  const older = [...(section?.querySelectorAll('p') ?? [])]
    .map((p) => /^(\d+) older notifications? not shown/.exec(p.textContent.trim()))
    .find(Boolean);
  return n.length + (older ? Number(older[1]) : 0);
}

async function traced(cdp, body) {
  const events = [];
  const onData = ({ value }) => events.push(...value);
  cdp.on('Tracing.dataCollected', onData);
  const complete = new Promise((r) => cdp.once('Tracing.tracingComplete', r));
  await cdp.send('Tracing.start', {
    transferMode: 'ReportEvents',
    traceConfig: {
      includedCategories: [
        'devtools.timeline',
        'disabled-by-default-devtools.timeline',
        'disabled-by-default-devtools.timeline.frame',
        'toplevel',
        'v8.execute',
        'v8',
        'blink.user_timing',
        'disabled-by-default-v8.gc',
        // The sampling profiler costs the page a lot (about a third more main-thread time at
        // 200 µs): --no-samples for the per-order total and the style/layout/paint split.
        ...(args['no-samples'] !== undefined ? [] : ['disabled-by-default-v8.cpu_profiler']),
        // Why style and layout were invalidated (node, reason): for --trace-out only.
        ...(args.invalidations !== undefined ? ['disabled-by-default-devtools.timeline.invalidationTracking'] : []),
      ],
    },
  });
  const result = await body();
  await cdp.send('Tracing.end');
  await complete;
  cdp.off('Tracing.dataCollected', onData);
  return { events, result };
}

/** The renderer main thread: pid/tid of the thread named CrRendererMain that ran the most. */
function mainThread(events) {
  const names = events.filter((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain');
  let best = null;
  let bestN = -1;
  for (const m of names) {
    const n = events.filter((e) => e.pid === m.pid && e.tid === m.tid && e.name === 'RunTask').length;
    if (n > bestN) [best, bestN] = [m, n];
  }
  return best;
}

/** Self time (µs) per trace event name on the main thread within [from, to] (trace µs). */
function selfTimes(events, { pid, tid }, from, to) {
  const xs = events
    .filter((e) => e.pid === pid && e.tid === tid && e.ph === 'X' && e.dur > 0 && e.ts >= from && e.ts <= to)
    .sort((a, b) => a.ts - b.ts || b.dur - a.dur);
  const self = new Map();
  const stack = [];
  let busy = 0;
  for (const e of xs) {
    while (stack.length && stack.at(-1).ts + stack.at(-1).dur <= e.ts) stack.pop();
    if (!stack.length) busy += e.dur;
    const parent = stack.at(-1);
    if (parent) self.set(parent.name, (self.get(parent.name) ?? 0) - Math.min(e.dur, parent.ts + parent.dur - e.ts));
    self.set(e.name, (self.get(e.name) ?? 0) + e.dur);
    stack.push(e);
  }
  return { self, busy };
}

/** Samples of the V8 CPU profile (trace events Profile/ProfileChunk) of the main thread. */
function cpuSamples(events, { pid, tid }) {
  const nodes = new Map();
  const samples = [];
  const profiles = new Set(
    events.filter((e) => e.name === 'Profile' && e.pid === pid && e.tid === tid).map((e) => e.id),
  );
  const chunks = events.filter(
    (e) => e.name === 'ProfileChunk' && e.pid === pid && (profiles.size === 0 || profiles.has(e.id)),
  );
  let ts = null;
  for (const c of chunks) {
    const p = c.args.data.cpuProfile ?? {};
    for (const n of p.nodes ?? []) nodes.set(n.id, n);
    const deltas = c.args.data.timeDeltas ?? [];
    if (ts === null) {
      const start = events.find((e) => e.name === 'Profile' && e.id === c.id);
      ts = start?.args?.data?.startTime ?? c.ts;
    }
    (p.samples ?? []).forEach((id, i) => {
      ts += deltas[i] ?? 0;
      samples.push([ts, id]);
    });
  }
  const stackOf = (id) => {
    const out = [];
    for (let n = nodes.get(id); n; n = nodes.get(n.parent)) out.push(n.callFrame);
    return out; // leaf first
  };
  return { samples, stackOf, nodes };
}

// Rules for one sample's stack (leaf first). Names as V8 shows wasm functions: the name section.
const fname = (f) => (f.functionName || '').replace(/^\$/, '');
function classify(stack, viewNames) {
  const names = stack.map(fname);
  const leaf = names[0] ?? '';
  const leafIsWasm = stack[0]?.codeType === 'wasm';
  const has = (re) => names.find((n) => re.test(n));
  if (leaf === '(idle)' || leaf === '(program)' || leaf === '(garbage collector)') return { phase: leaf, layer: leaf };
  // Phase: the outermost thing that explains the work.
  let phase = 'other script';
  if (has(/yew::scheduler|RenderRunner|commit_render|Stateful>::view/)) phase = 'Yew render (views + diff)';
  else if (has(/broker_bridge::ws|handle_bytes|Packet::decode|onmessage/)) phase = 'MQTT receive → services → state';
  if (has(/flow_pulses|animation_frames|FireAnimationFrame/) && phase === 'other script') phase = 'animation frames';
  // Layer: the innermost classified frame.
  let layer = leafIsWasm ? 'other wasm' : `JS/native: ${leaf || '(anonymous)'}`;
  for (const n of names) {
    let m;
    if ((m = /Stateful>::view::(h[0-9a-f]{16})/.exec(n))) {
      layer = `view: ${viewNames.get(m[1]) ?? m[1]}`;
      break;
    }
    if ((m = /^<?frontend::components::([a-z_]+)/.exec(n))) {
      layer = `view: ${m[1]}`;
      break;
    }
    if (/yew::dom_bundle|Reconcilable|yew::virtual_dom/.test(n)) { layer = 'yew diff/patch (dom_bundle)'; break; }
    if (/^<?yew::/.test(n)) { layer = 'yew other (scheduler, hooks)'; break; }
    if (/serde_json|serde::de|serde_core/.test(n)) { layer = 'serde_json (JSON en/decode)'; break; }
    if (/^<?broker_bridge::/.test(n)) { layer = 'broker_bridge (MQTT codec/session/ws)'; break; }
    if (/^<?eda_core::services::/.test(n)) { layer = 'eda_core::services (the four services)'; break; }
    if (/^<?eda_core::(state|trace)/.test(n)) { layer = 'eda_core::state/trace (page model, packet trace)'; break; }
    if (/^<?eda_core::/.test(n)) { layer = 'eda_core other (domain, store)'; break; }
    if (/^<?frontend::/.test(n)) { layer = 'frontend runtime/hooks'; break; }
    if (/dlmalloc|__rust_alloc|__rdl_/.test(n)) { layer = 'allocator'; break; }
  }
  if (!leafIsWasm && leaf && !/^\(/.test(leaf) && stack.some((f) => f.codeType === 'wasm')) {
    // A JS function under wasm: the DOM/JS binding it calls (wasm-bindgen glue).
    layer = `${layer} → JS: ${/^__wbg_(\w+?)_/.exec(leaf)?.[1] ?? leaf}`.replace(/^JS\/native: .* → /, '');
  }
  return { phase, layer };
}

function splitLayer(layer) {
  // "view: x → JS: setAttribute" counts both under the view and, separately, as DOM calls.
  const [own, js] = layer.split(' → JS: ');
  return { own, js: js ?? null };
}

async function loadRun(browser, server, broker, viewNames) {
  const app = await openPage(
    browser,
    `${server.url}/?broker=${broker.wsUrl}&payment_ms=0&inventory_ms=0${VIEW === 'sequence' ? '&view=sequence' : ''}`,
    { timeoutMs: 60_000 },
  );
  const { page } = app;
  await page.waitForFunction(
    (s) => s.every((x) => document.querySelector(`[data-testid="status-${x}"]`)?.getAttribute('data-state') === 'connected'),
    SERVICES,
    { timeout: 30_000, polling: 200 },
  );
  // The form takes orders once every service has subscribed (data-ready).
  await page.locator('[data-testid="place-order"][data-ready="true"]').waitFor({ timeout: 30_000 });
  await page.click('[data-testid="place-order"]');
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="notification"]').length >= 3, null, { timeout: 30_000 });
  const before0 = await page.evaluate(notificationTotal);
  await page.evaluate(startLoad, { rate: 100, seconds: 1 });
  await page.evaluate(() => window.__edaLoad.done);
  await page.waitForFunction((n) => {
    const ns = document.querySelectorAll('[data-testid="notification"]');
    const section = ns[0]?.closest('section');
    const older = [...(section?.querySelectorAll('p') ?? [])].map((p) => /^(\d+) older notifications? not shown/.exec(p.textContent.trim())).find(Boolean);
    return ns.length + (older ? Number(older[1]) : 0) >= n;
  }, before0 + 300, { timeout: 60_000, polling: 200 });
  await page.evaluate((target) => document.querySelector(target)?.scrollIntoView({ block: 'center' }),
    VIEW === 'sequence' ? '[data-testid="sequence-scroll"]' : '[data-testid="flow-svg"]');
  await sleep(2500); // the warm-up's dots gone

  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 200 });

  // Idle baseline: the same length, nothing placed.
  const idle = await traced(cdp, async () => {
    const a = await page.evaluate(() => performance.now());
    await sleep(SECONDS * 1000);
    return { a, b: await page.evaluate(() => performance.now()) };
  });

  if (args.mutations !== undefined) await page.evaluate(countMutations);
  const before = await page.evaluate(notificationTotal);
  await cdp.send('Performance.enable');
  const metric = async () => Object.fromEntries((await cdp.send('Performance.getMetrics')).metrics.map((m) => [m.name, m.value]));
  const m0 = await metric();
  const load = await traced(cdp, async () => {
    const a = await page.evaluate(startLoad, { rate: RATE, seconds: SECONDS });
    const done = await page.evaluate(() => window.__edaLoad.done);
    // Drain: until every order's three notifications are counted (or 30 s).
    const t0 = Date.now();
    while ((await page.evaluate(notificationTotal)) - before < 3 * done.placed && Date.now() - t0 < 30_000) await sleep(100);
    const drainMs = Date.now() - t0;
    return { a, placed: done.placed, drainMs, b: await page.evaluate(() => performance.now()) };
  });
  const m1 = await metric();
  // Chromium's own counters, independent of the trace parsing (seconds → ms).
  load.metrics = Object.fromEntries(['TaskDuration', 'ScriptDuration', 'LayoutDuration', 'RecalcStyleDuration'].map((k) => [k, (m1[k] - m0[k]) * 1000]));
  if (args.mutations !== undefined) {
    load.mutations = await page.evaluate(() => window.__edaMutations);
    load.onScreen = await page.evaluate(() => ({
      viewport: [innerWidth, innerHeight, Math.round(scrollY)],
      parts: [...document.querySelectorAll('[data-on-screen]')].map((e) => {
        const r = e.getBoundingClientRect();
        return `${e.getAttribute('aria-label') ?? e.className} ${e.getAttribute('data-on-screen')} top ${Math.round(r.top)} height ${Math.round(r.height)}`;
      }),
    }));
  }
  const found = panics(app);
  await app.close();
  if (found.length) throw new Error(`panic: ${found.join('\n')}`);
  return { idle, load };
}

function analyse({ events }, viewNames) {
  const main = mainThread(events);
  if (!main) throw new Error('no CrRendererMain thread in the trace');
  const runTasks = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.name === 'RunTask' && e.ph === 'X');
  const from = Math.min(...runTasks.map((e) => e.ts));
  const to = Math.max(...runTasks.map((e) => e.ts + e.dur));
  const { self, busy } = selfTimes(events, main, from, to);
  const { samples, stackOf } = cpuSamples(events, main);
  const phase = new Map();
  const layer = new Map();
  const js = new Map();
  const byFn = new Map();
  samples.sort((a, b) => a[0] - b[0]);
  for (let i = 0; i < samples.length; i++) {
    const [ts, id] = samples[i];
    // A sample stands for the time until the next one (capped: gaps are idle or unsampled).
    const dt = i + 1 < samples.length ? Math.min(samples[i + 1][0] - ts, 2000) : 0;
    const stack = stackOf(id);
    const c = classify(stack, viewNames);
    if (c.phase.startsWith('(')) continue;
    const { own, js: jsCall } = splitLayer(c.layer);
    phase.set(c.phase, (phase.get(c.phase) ?? 0) + dt);
    layer.set(own, (layer.get(own) ?? 0) + dt);
    if (jsCall) js.set(jsCall, (js.get(jsCall) ?? 0) + dt);
    const leaf = fname(stack[0] ?? {}) || '(anonymous)';
    byFn.set(leaf, (byFn.get(leaf) ?? 0) + dt);
  }
  return { seconds: (to - from) / 1e6, busy, self, phase, layer, js, byFn, samples: samples.length };
}

const GROUPS = {
  'script (JS + wasm)': ['FunctionCall', 'v8.callFunction', 'TimerFire', 'EventDispatch', 'FireAnimationFrame', 'v8.run', 'EvaluateScript', 'v8.compile', 'RunMicrotasks', 'V8.Execute', 'FunctionCall', 'ResizeObserver', 'IntersectionObserverController::computeIntersections', 'HitTest'],
  'style (UpdateLayoutTree)': ['UpdateLayoutTree', 'ScheduleStyleRecalculation', 'ParseAuthorStyleSheet', 'InvalidateLayout'],
  layout: ['Layout', 'UpdateLayerTree', 'IntersectionObserverController::computeIntersections'],
  'paint / prepaint / layerize / commit': ['Paint', 'PrePaint', 'Layerize', 'Commit', 'PaintImage', 'UpdateLayer', 'CompositeLayers', 'RasterTask', 'PaintSetup', 'Decode Image'],
  GC: ['MinorGC', 'MajorGC', 'V8.GC_SCAVENGER', 'V8.GCScavenger', 'V8.GCCompactor', 'V8.GCFinalizeMC', 'BlinkGC.AtomicPhase', 'V8.GC_MC_BACKGROUND_MARKING', 'V8.GCIncrementalMarking', 'CppGC.AtomicPhase'],
};
function grouped(self) {
  const out = new Map();
  for (const [name, us] of self) {
    if (us <= 0) continue;
    let g = Object.entries(GROUPS).find(([, names]) => names.includes(name))?.[0];
    if (!g) g = name === 'RunTask' ? 'task overhead (RunTask self)' : /GC/i.test(name) ? 'GC' : `other: ${name}`;
    out.set(g, (out.get(g) ?? 0) + us);
  }
  return out;
}

function table(title, map, orders, seconds, unit = 1000, limit = 25) {
  const rows = [...map.entries()].sort((a, b) => b[1] - a[1]).slice(0, limit);
  console.log(`\n### ${title}\n\n| what | ms total | ms/s | ms per order |\n|---|---:|---:|---:|`);
  for (const [k, v] of rows) {
    console.log(`| ${k} | ${(v / unit).toFixed(1)} | ${(v / unit / seconds).toFixed(1)} | ${orders ? (v / unit / orders).toFixed(3) : '-'} |`);
  }
}

async function main() {
  const { readFile } = await import('node:fs/promises');
  const viewNames = new Map();
  if (args['view-names']) {
    for (const line of (await readFile(args['view-names'], 'utf8')).split('\n')) {
      const m = /^(h[0-9a-f]{16}) \[\('([a-z_]+)'/.exec(line);
      if (m) viewNames.set(m[1], m[2]);
    }
  }
  const broker = await startBroker({ logAll: false, settings: { max_inflight_messages: 20, max_queued_messages: 100_000 } });
  const server = await serveDir(APP_DIR);
  const browser = await launchBrowser();
  try {
    if (STARTUP_RUNS > 0) {
      const runs = [];
      for (let i = 0; i < STARTUP_RUNS; i++) {
        // bench/startup.mjs's fresh load and probe: the same milestones, on this run's broker.
        runs.push(await loadOnce(browser, `${server.url}/?broker=${broker.wsUrl}`));
        await sleep(300);
      }
      console.log(`\n### Startup (${APP_DIR}), ms after navigation start, median (min–max) of ${runs.length} fresh pages\n`);
      console.log('| step | median | min | max |\n|---|---:|---:|---:|');
      for (const k of Object.keys(runs[0])) {
        const xs = runs.map((r) => r[k]).filter((x) => Number.isFinite(x));
        if (xs.length === 0) continue; // not a time (the sockets, errors …) or never reached
        console.log(`| ${k} | ${median(xs).toFixed(1)} | ${Math.min(...xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} |`);
      }
    }
    if (SECONDS > 0) {
      const { idle, load } = await loadRun(browser, server, broker, viewNames);
      if (args['trace-out']) await writeFile(args['trace-out'], JSON.stringify({ traceEvents: load.events }));
      const orders = load.result.placed;
      const I = analyse(idle, viewNames);
      const L = analyse(load, viewNames);
      console.log(`\n## Load: ${orders} orders at ${RATE}/s over ${SECONDS} s (+ drain ${load.result.drainMs} ms), view ${VIEW}`);
      console.log(`traced ${L.seconds.toFixed(2)} s; main thread busy ${(L.busy / 1000).toFixed(0)} ms = ${(L.busy / 1000 / orders).toFixed(2)} ms per order (${(100 * L.busy / 1e6 / L.seconds).toFixed(0)} % of the time); idle baseline ${(I.busy / 1000 / I.seconds).toFixed(1)} ms/s → net ${((L.busy / 1000 - (I.busy / 1000 / I.seconds) * L.seconds) / orders).toFixed(2)} ms per order; ${L.samples} CPU samples`);
      console.log(`Performance.getMetrics over the load + drain (ms): ${JSON.stringify(Object.fromEntries(Object.entries(load.metrics).map(([k, v]) => [k, Math.round(v)])))}`);
      table('Main thread by trace event (self time), load', grouped(L.self), orders, L.seconds);
      table('Main thread by trace event (self time), idle baseline', grouped(I.self), 0, I.seconds);
      table('Script by phase (CPU samples, outermost)', L.phase, orders, L.seconds);
      table('Script by layer (CPU samples, innermost classified frame; DOM calls counted under their caller)', L.layer, orders, L.seconds, 1000, 40);
      table('JS/DOM calls made from wasm (leaf JS function, by wasm-bindgen import)', L.js, orders, L.seconds, 1000, 25);
      table('Hottest leaf functions', L.byFn, orders, L.seconds, 1000, 30);
      table('Idle: script by layer', I.layer, 0, I.seconds, 1000, 10);
      if (load.mutations) {
        const rows = Object.entries(load.mutations)
          .map(([region, kinds]) => [region, Object.values(kinds).reduce((a, b) => a + b, 0), kinds])
          .sort((a, b) => b[1] - a[1]);
        console.log(`\nviewport ${load.onScreen.viewport.join(' × ')} (width, height, scrollY) at the end; parts:\n${load.onScreen.parts.map((p) => `- ${p}`).join('\n')}`);
        console.log('\n### DOM mutation records during the load, by region (--mutations)\n\n| region | records | per order | by kind |\n|---|---:|---:|---|');
        for (const [region, n, kinds] of rows.slice(0, 40)) {
          const top = Object.entries(kinds).sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k} ${v}`).join(', ');
          console.log(`| ${region} | ${n} | ${(n / orders).toFixed(2)} | ${top} |`);
        }
      }
    }
  } finally {
    await browser.close();
    await server.close();
    await broker.stop();
  }
}

await main();
