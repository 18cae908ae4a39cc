#!/usr/bin/env node
// The page's start, from navigation to every service connected: N fresh page loads (a new
// browser context each, so nothing cached) of the release build served by e2e/lib/serve.mjs,
// against a private Mosquitto (e2e/lib/broker.mjs) and a private aedes (e2e/lib/aedes.mjs),
// the loads alternating between the two. Prints one Markdown table per broker: the median
// and the range of each milestone, in ms after navigation (the page's performance.now()).
//
//   node bench/startup.mjs [--app-dir target/bench-app] [--runs 7] [--brokers mosquitto,aedes]
//                          [--json FILE]
//   node bench/startup.mjs --app-dir before=/tmp/a --app-dir after=/tmp/b   # builds compared,
//                                                                           # loads interleaved
//
// Builds nothing: scripts/bench (or `trunk build --release --dist DIR`) builds the app first.
// Also exports `loadOnce` and `bareLoadOnce` for bench/startup-figures.mjs (run by bench/run.mjs)
// and bench/profile/per-order.mjs.
//
// Beside the builds, a column "bare page": after each load, one of bench/socket-floor.html,
// served by the same server, opening as many WebSockets to the same broker as the page did and
// sending a CONNECT on each as soon as it opens: what this browser and this broker allow at
// best, with no wasm and no rendering (issue 14's "as soon as the broker allows").
//
// Milestones, each from a script that runs before any of the page's own (addInitScript):
// - html: the page's HTML received (navigation timing's responseEnd);
// - wasm fetched: the app's .wasm received (resource timing's responseEnd);
// - instantiated: `WebAssembly.instantiateStreaming` (or `instantiate`) resolved; the table
//   says which one the page used;
// - first DOM: the first element Yew writes into <body> (beside the <noscript>);
// - first / last `new WebSocket`: the page's WebSocket constructor called (wrapped);
// - first / last socket open: the `open` events (the broker's handshakes);
// - first CONNECT sent: the first bytes sent on a socket; last CONNECT sent and last CONNACK
//   received: the last first-send and first `message` on the services' five sockets (the
//   first five: the status monitor's is the sixth);
//   (aedes sends a CONNACK one byte per WebSocket frame: its first byte);
// - <service> connected: its status badge says `connected` (after the broker's CONNACK); on
//   the bare page, the CONNACK on that service's socket;
// - all connected: the last of the five;
// - whole page drawn: the page's last section ("The orders") in the DOM: what waiting costs;
// - two durations, the page's own delays whatever the broker's pace: the longest, over the
//   services' sockets, from a socket's `open` to its CONNECT, and from its CONNACK to its badge.

import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { startAedes } from '../e2e/lib/aedes.mjs';
import { startBroker } from '../e2e/lib/broker.mjs';
import { launchBrowser } from '../e2e/lib/browser.mjs';
import { serveDir } from '../e2e/lib/serve.mjs';

import { median as medianOf } from './report.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const SERVICES = ['order', 'payment', 'inventory', 'notification', 'query'];
const CONNECT_TIMEOUT_MS = 30_000;
/** The yardstick (bench/socket-floor.html), served beside each app at this path. */
export const BARE_PAGE = { path: '/socket-floor.html', file: path.join(root, 'bench/socket-floor.html') };
const BROKERS = {
  mosquitto: () => startBroker({ logAll: false }),
  aedes: () => startAedes(),
};

/** Runs in the page before any of its scripts: timestamps of the steps of its start. */
function probe(services) {
  const t = { sockets: [], wasm: [], firstDom: null, wholePage: null, connected: {} };
  window.__edaStart = t;
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      super(...args);
      const s = {
        url: String(args[0]),
        created: performance.now(),
        open: null,
        sent: null,
        received: null, // the first message (the CONNACK) handed to the page
        closed: null,
      };
      this.__edaProbe = s;
      t.sockets.push(s);
      this.addEventListener('open', () => (s.open = performance.now()));
      this.addEventListener('message', () => (s.received ??= performance.now()));
      this.addEventListener('close', () => (s.closed = performance.now()));
    }

    send(data) {
      this.__edaProbe.sent ??= performance.now();
      return super.send(data);
    }
  };
  for (const name of ['instantiateStreaming', 'instantiate']) {
    const native = WebAssembly[name];
    WebAssembly[name] = function (...args) {
      const start = performance.now();
      return native.apply(this, args).then((result) => {
        t.wasm.push({ name, start, end: performance.now() });
        return result;
      });
    };
  }
  const watch = () => {
    new MutationObserver((_, observer) => {
      const now = performance.now();
      if (t.firstDom === null && document.body.children.length > 1) t.firstDom = now;
      t.wholePage ??= document.querySelector('[aria-label="The orders"]') ? now : null;
      for (const s of services) {
        if (t.connected[s] != null) continue;
        const badge = document.querySelector(`[data-testid="status-${s}"]`);
        if (badge?.getAttribute('data-state') === 'connected') t.connected[s] = now;
      }
      if (t.wholePage != null && services.every((s) => t.connected[s] != null)) observer.disconnect();
    }).observe(document.documentElement, { subtree: true, childList: true, attributes: true });
  };
  if (document.body) watch();
  else document.addEventListener('DOMContentLoaded', watch);
}

/** The latest of `times`, or `null` if one is missing. */
const latest = (times) => (times.some((x) => x == null) ? null : Math.max(...times));
/** `to - from`, or `null` if either is missing. */
const gap = (from, to) => (from == null || to == null ? null : to - from);

/** One fresh page load of `url`: the milestones in ms after navigation. */
export async function loadOnce(browser, url) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
    await page.addInitScript(probe, SERVICES);
    await page.goto(url);
    await page
      .waitForFunction(
        (services) =>
          window.__edaStart?.wholePage != null &&
          services.every((s) => window.__edaStart.connected[s] != null),
        SERVICES,
        { timeout: CONNECT_TIMEOUT_MS, polling: 50 },
      )
      .catch(async (error) => {
        const seen = await page.evaluate(() => window.__edaStart?.connected).catch(() => null);
        throw new Error(
          `not all five services connected within ${CONNECT_TIMEOUT_MS} ms: ` +
            `${JSON.stringify(seen)}${errors.length ? `; ${errors.join('; ')}` : ''}`,
          { cause: error },
        );
      });
    const r = await page.evaluate(() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const resources = performance.getEntriesByType('resource').map((e) => ({
        name: e.name.split('/').pop().split('?')[0],
        start: e.startTime,
        end: e.responseEnd,
      }));
      return { t: window.__edaStart, html: nav.responseEnd, resources };
    });
    const wasm = r.resources.find((e) => e.name.endsWith('.wasm') && !e.name.startsWith('inpage'));
    const inst = r.t.wasm[0];
    const sockets = r.t.sockets;
    const opens = sockets.map((s) => s.open).filter((x) => x != null);
    const sends = sockets.map((s) => s.sent).filter((x) => x != null);
    const services = sockets.slice(0, SERVICES.length); // the clients take them in this order
    const connected = Object.fromEntries(SERVICES.map((s) => [s, r.t.connected[s]]));
    return {
      html: r.html,
      wasmFetchStart: wasm?.start ?? null,
      wasmFetched: wasm?.end ?? null,
      instantiate: inst?.name ?? null,
      instantiated: inst?.end ?? null,
      firstDom: r.t.firstDom,
      wholePage: r.t.wholePage,
      firstSocket: sockets[0]?.created ?? null,
      lastSocket: sockets.at(-1)?.created ?? null,
      firstOpen: opens.length ? Math.min(...opens) : null,
      lastOpen: opens.length ? Math.max(...opens) : null,
      firstSend: sends.length ? Math.min(...sends) : null,
      lastSend: latest(services.map((s) => s.sent)),
      // The page's own delays on each service's socket, whatever the broker's pace.
      openToSend: latest(services.map((s) => gap(s.open, s.sent))),
      answerToBadge: latest(services.map((s, i) => gap(s.received, r.t.connected[SERVICES[i]]))),
      lastReceived: latest(services.map((s) => s.received)),
      sockets: sockets.length,
      socketTimes: sockets,
      socketsClosed: sockets.filter((s) => s.closed != null).length,
      connected,
      allConnected: Math.max(...Object.values(connected)),
      errors,
    };
  } finally {
    await context.close();
  }
}

/**
 * One fresh load of the yardstick page from `serverUrl` (served with `BARE_PAGE`): `sockets`
 * WebSockets to `wsUrl`, each sending a CONNECT once open. The milestones of `loadOnce` that it
 * has (no wasm, no DOM); a service counts as connected at the CONNACK on the socket the
 * playground gives it (its clients take index.html's sockets in this order: the five services
 * first, the status monitor last), `allConnacks` at the last CONNACK of all.
 */
export async function bareLoadOnce(browser, serverUrl, wsUrl, sockets) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const query = `?broker=${encodeURIComponent(wsUrl)}&sockets=${sockets}`;
    await page.goto(`${serverUrl}${BARE_PAGE.path}${query}`);
    await page.waitForFunction(
      () => window.__socketFloor.error ?? window.__socketFloor.sockets.every((s) => s.connack !== null),
      null,
      { timeout: CONNECT_TIMEOUT_MS, polling: 50 },
    );
    const r = await page.evaluate(() => ({
      t: window.__socketFloor,
      html: performance.getEntriesByType('navigation')[0].responseEnd,
    }));
    const refused = r.t.sockets.findIndex((s) => s.code !== 0);
    if (r.t.error || refused >= 0) {
      throw new Error(`bare page: ${r.t.error ?? `socket ${refused}: CONNACK return code ${r.t.sockets[refused].code}`}`);
    }
    const all = r.t.sockets;
    const connected = Object.fromEntries(SERVICES.map((s, i) => [s, all[i]?.connack ?? null]));
    return {
      html: r.html,
      firstSocket: all[0].created,
      lastSocket: all.at(-1).created,
      firstOpen: Math.min(...all.map((s) => s.open)),
      lastOpen: Math.max(...all.map((s) => s.open)),
      firstSend: Math.min(...all.map((s) => s.open)),
      lastSend: Math.max(...all.slice(0, SERVICES.length).map((s) => s.open)),
      lastReceived: Math.max(...Object.values(connected)),
      sockets: all.length,
      socketTimes: all,
      connected,
      allConnected: Math.max(...Object.values(connected)),
      allConnacks: Math.max(...all.map((s) => s.connack)),
      errors: [],
    };
  } finally {
    await context.close();
  }
}

/** The median of the values reached (`null`s left out); `null` if none was. */
const median = (xs) => {
  const m = medianOf(xs.filter((x) => x != null));
  return Number.isNaN(m) ? null : m;
};
const ms = (x) => (x == null ? '–' : x.toFixed(0));

function summarize(loads) {
  const row = (label, pick) => {
    const xs = loads.map(pick).filter((x) => x != null);
    return xs.length
      ? { label, median: median(xs), min: Math.min(...xs), max: Math.max(...xs) }
      : { label, median: null, min: null, max: null };
  };
  const instantiations = [...new Set(loads.map((l) => l.instantiate))].join(', ');
  return {
    instantiations,
    sockets: [...new Set(loads.map((l) => l.sockets))].join(', '),
    rows: [
      row('HTML received', (l) => l.html),
      row('wasm fetch started', (l) => l.wasmFetchStart),
      row('wasm fetched', (l) => l.wasmFetched),
      row(`wasm instantiated (${instantiations})`, (l) => l.instantiated),
      row('first DOM (Yew)', (l) => l.firstDom),
      row('first `new WebSocket`', (l) => l.firstSocket),
      row('last `new WebSocket`', (l) => l.lastSocket),
      row('first socket open', (l) => l.firstOpen),
      row('last socket open', (l) => l.lastOpen),
      row('first CONNECT sent (the client running)', (l) => l.firstSend),
      row("last CONNECT sent (the services' sockets)", (l) => l.lastSend),
      row("last CONNACK received (the services' sockets)", (l) => l.lastReceived),
      ...SERVICES.map((s) => row(`${s} connected`, (l) => l.connected[s])),
      row('**all services connected**', (l) => l.allConnected),
      row('whole page drawn (its last section, "The orders")', (l) => l.wholePage),
      row("_duration_: longest socket `open` → its CONNECT sent (services')", (l) => l.openToSend),
      row('_duration_: longest CONNACK received → its badge `connected`', (l) => l.answerToBadge),
    ],
  };
}

/** Markdown: one table per broker, one column per build measured. */
export function formatStartup(results) {
  const out = ['### Start-up: navigation → every service connected (ms after navigation)', ''];
  const brokers = [...new Set(results.map((r) => r.broker))];
  for (const broker of brokers) {
    const mine = results.filter((r) => r.broker === broker);
    const loads = mine.map((r) => `${r.app}: ${r.loads.length} loads, ${r.summary.sockets} WebSockets each`);
    out.push(
      `**${broker}** (${loads.join('; ')})`,
      '',
      `| milestone | ${mine.map((r) => `${r.app}: median (range)`).join(' | ')} |`,
      `|---|${mine.map(() => '---:').join('|')}|`,
      ...mine[0].summary.rows.map(
        (row, i) =>
          `| ${row.label} | ${mine
            .map(({ summary }) => summary.rows[i])
            .map((r) => (r.median == null ? '–' : `${ms(r.median)} (${ms(r.min)}–${ms(r.max)})`))
            .join(' | ')} |`,
      ),
      '',
    );
  }
  return out.join('\n');
}

/**
 * `runs` fresh loads of each app against each broker, interleaved (app and broker order
 * alternating from one run to the next, so a slow spell of the machine falls on all), each
 * pair of loads followed by one of the bare page (`bareLoadOnce`, from the first app's server,
 * as many sockets as that app load opened); returns the loads and their summary per app and
 * broker, the bare page's as the app labelled `bare page`. `apps`: `[{ label, dir }]`.
 */
export async function runStartup({ browser, apps, runs, brokers = Object.keys(BROKERS) }) {
  const servers = [];
  const started = {};
  try {
    for (const app of apps) {
      const also = { [BARE_PAGE.path]: BARE_PAGE.file };
      servers.push({ ...app, server: await serveDir(app.dir, { also }) });
    }
    for (const name of brokers) started[name] = await BROKERS[name]();
    const wsUrl = (broker) => started[broker].wsUrl;
    const bare = { label: 'bare page', server: servers[0].server };
    const pairs = [...servers, bare].flatMap((app) => brokers.map((broker) => ({ app, broker })));
    const sockets = {}; // broker → how many sockets the last app load opened
    const loadOne = async ({ app, broker }) => {
      if (app === bare) return bareLoadOnce(browser, app.server.url, wsUrl(broker), sockets[broker]);
      const load = await loadOnce(browser, `${app.server.url}/?broker=${wsUrl(broker)}`);
      sockets[broker] = load.sockets;
      return load;
    };
    // One load of each to warm the servers, the brokers and the browser: not counted.
    for (const pair of pairs) await loadOne(pair);
    const loads = pairs.map(() => []);
    for (let i = 0; i < runs; i++) {
      const order = pairs.map((_, k) => k).filter((k) => pairs[k].app !== bare);
      if (i % 2) order.reverse();
      for (const k of order) {
        const load = await loadOne(pairs[k]);
        const { app, broker } = pairs[k];
        if (load.errors.length) console.error(`startup: ${app.label}, ${broker}: page errors: ${load.errors.join(' | ')}`);
        loads[k].push(load);
        const b = pairs.findIndex((p) => p.app === bare && p.broker === broker);
        loads[b].push(await loadOne(pairs[b]));
      }
      console.error(`startup: run ${i + 1}/${runs} done`);
    }
    return pairs.map(({ app, broker }, k) => ({
      app: app.label,
      broker,
      loads: loads[k],
      summary: summarize(loads[k]),
    }));
  } finally {
    for (const b of Object.values(started)) await b.stop();
    for (const { server } of servers) await server.close();
  }
}

async function main() {
  const args = process.argv.slice(2);
  const all = (flag) => args.flatMap((a, i) => (a === flag ? [args[i + 1]] : []));
  const opt = (flag, fallback) => all(flag)[0] ?? fallback;
  // --app-dir DIR, or several --app-dir LABEL=DIR to compare builds load by load.
  const dirs = all('--app-dir');
  const apps = (dirs.length ? dirs : [path.join(root, 'target/bench-app')]).map((d) => {
    const [label, dir] = d.includes('=') ? d.split(/=(.*)/s) : ['page', d];
    return { label, dir: path.resolve(dir) };
  });
  const runs = Number(opt('--runs', 7));
  const brokers = opt('--brokers', 'mosquitto,aedes').split(',');
  const json = opt('--json', null);
  for (const { dir } of apps) {
    if (!existsSync(path.join(dir, 'index.html'))) {
      throw new Error(`${dir}/index.html is missing: build the app (trunk build --release --dist ${dir})`);
    }
  }
  if (!Number.isInteger(runs) || runs < 1) throw new Error('--runs must be an integer ≥ 1');
  for (const b of brokers) if (!BROKERS[b]) throw new Error(`--brokers: unknown broker ${b}`);
  const browser = await launchBrowser();
  try {
    const results = await runStartup({ browser, apps, runs, brokers });
    console.log(formatStartup(results));
    if (json) {
      mkdirSync(path.dirname(path.resolve(json)), { recursive: true });
      writeFileSync(json, JSON.stringify(results, null, 1));
    }
  } finally {
    await browser.close();
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((error) => {
    console.error(`startup: ${error.message}`);
    process.exit(1);
  });
}
