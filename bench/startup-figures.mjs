// The page's start, as issue 14 counts it: navigation → the first `new WebSocket`, and
// navigation → all five services `connected`, over several fresh loads, against Mosquitto and
// against aedes; beside it, how fast each broker lets five clients in, one after the other
// (what "as soon as the broker allows" can mean: Chromium opens one WebSocket handshake at a
// time per host). Run by bench/run.mjs (`--only startup`).
//
//   const startup = await runStartupFigures({ browser, appDir, loads: 7, log });
//   formatStartupFigures(out, startup);
//
// Each load is a fresh browser context (empty cache and storage) opening the release build with
// `?broker=<ws url>`. A script added before any of the page's (addInitScript) wraps
// `window.WebSocket` to note when each socket is created and opened, and a MutationObserver
// notes when each `status-<service>` badge first says `connected`; all in the page's
// performance.now() time, whose 0 is the start of the navigation. One load per broker is a
// warm-up (the broker's, the server's and Chromium's first time), not counted.

import mqtt from 'mqtt';

import { startAedes } from '../e2e/lib/aedes.mjs';
import { startBroker } from '../e2e/lib/broker.mjs';
import { serveDir } from '../e2e/lib/serve.mjs';

import { median } from './report.mjs';

const SERVICES = ['order', 'payment', 'inventory', 'notification', 'query'];
const CONNECT_TIMEOUT_MS = 30_000;
/** Issue 14: the first socket at most this long after navigation. */
export const FIRST_SOCKET_GOAL_MS = 150;
/**
 * Our reading of "all services connected as soon as the broker allows": the time from the first
 * `new WebSocket` to the last service connected is at most the broker's own time to let five
 * clients in one after the other (measured in the same run, from Node) plus this much.
 */
export const CONNECT_SLACK_MS = 100;

/** Runs in the page before its own scripts. */
function startupProbe(services) {
  const t = { sockets: [], connected: {} };
  window.__edaStartup = t;
  const NativeWebSocket = window.WebSocket;
  window.WebSocket = class extends NativeWebSocket {
    constructor(...args) {
      const created = performance.now();
      super(...args);
      const socket = { created, open: null };
      t.sockets.push(socket);
      this.addEventListener('open', () => (socket.open = performance.now()));
    }
  };
  const watch = () =>
    new MutationObserver((_, observer) => {
      for (const s of services) {
        const badge = document.querySelector(`[data-testid="status-${s}"]`);
        if (t.connected[s] == null && badge?.getAttribute('data-state') === 'connected') {
          t.connected[s] = performance.now();
        }
      }
      if (services.every((s) => t.connected[s] != null)) observer.disconnect();
    }).observe(document.documentElement, { subtree: true, childList: true, attributes: true });
  if (document.documentElement) watch();
  else document.addEventListener('readystatechange', watch, { once: true });
}

async function oneLoad(browser, url) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.addInitScript(startupProbe, SERVICES);
    await page.goto(url);
    await page
      .waitForFunction(
        (services) => services.every((s) => window.__edaStartup?.connected[s] != null),
        SERVICES,
        { timeout: CONNECT_TIMEOUT_MS, polling: 50 },
      )
      .catch(async (error) => {
        const seen = await page.evaluate(() => window.__edaStartup).catch(() => null);
        throw new Error(
          `not all five services connected within ${CONNECT_TIMEOUT_MS} ms: ` +
            `${JSON.stringify(seen?.connected)}${errors.length ? `; ${errors.join('; ')}` : ''}`,
          { cause: error },
        );
      });
    const t = await page.evaluate(() => window.__edaStartup);
    const opened = t.sockets.map((s) => s.open).filter((x) => x !== null);
    return {
      firstSocket: t.sockets[0]?.created ?? NaN,
      firstOpen: Math.min(...opened),
      lastOpen: Math.max(...opened),
      allConnected: Math.max(...Object.values(t.connected)),
      sockets: t.sockets.length,
    };
  } finally {
    await context.close();
  }
}

/** Five MQTT.js clients over WebSocket from Node, one after the other: ms until the fifth is in. */
async function brokerFloor(wsUrl) {
  const clients = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < SERVICES.length; i++) {
      clients.push(
        await mqtt.connectAsync(wsUrl, {
          protocolVersion: 4,
          clientId: `eda-bench-floor-${process.pid}-${i}-${Date.now()}`,
          reconnectPeriod: 0,
          connectTimeout: 10_000,
        }),
      );
    }
    return performance.now() - t0;
  } finally {
    await Promise.all(clients.map((c) => c.endAsync()));
  }
}

const spread = (values) => ({
  median: median(values),
  min: Math.min(...values),
  max: Math.max(...values),
  values,
});

async function forBroker({ browser, server, broker, name, loads, log }) {
  const url = `${server.url}/?broker=${encodeURIComponent(broker.wsUrl)}`;
  await oneLoad(browser, url); // warm-up, not counted
  const runs = [];
  const floors = [];
  for (let i = 0; i < loads; i++) {
    runs.push(await oneLoad(browser, url));
    floors.push(await brokerFloor(broker.wsUrl));
  }
  const pick = (field) => spread(runs.map((r) => r[field]));
  const summary = {
    broker: name,
    loads,
    firstSocket: pick('firstSocket'),
    firstOpen: pick('firstOpen'),
    allConnected: pick('allConnected'),
    connecting: spread(runs.map((r) => r.allConnected - r.firstSocket)),
    floor: spread(floors),
    sockets: [...new Set(runs.map((r) => r.sockets))],
  };
  log(
    `startup: ${name}: first socket ${summary.firstSocket.median.toFixed(0)} ms, all connected ` +
      `${summary.allConnected.median.toFixed(0)} ms (median of ${loads}); the broker lets five ` +
      `clients in in ${summary.floor.median.toFixed(0)} ms`,
  );
  return summary;
}

/** Start-up figures against Mosquitto (Debian's, as the e2e suite runs it) and aedes (npm). */
export async function runStartupFigures({ browser, appDir, loads, log = console.error }) {
  const server = await serveDir(appDir);
  const results = [];
  try {
    for (const [name, start] of [
      ['Mosquitto', () => startBroker({ logAll: false })],
      ['aedes', () => startAedes()],
    ]) {
      const broker = await start();
      try {
        results.push(await forBroker({ browser, server, broker, name, loads, log }));
      } finally {
        await broker.stop();
      }
    }
  } finally {
    await server.close();
  }
  return results;
}

// ---- verdicts and the table ------------------------------------------------------------------

export function startupVerdicts(s) {
  return {
    firstSocket: s.firstSocket.median <= FIRST_SOCKET_GOAL_MS,
    allConnected: s.connecting.median <= s.floor.median + CONNECT_SLACK_MS,
  };
}

const ms0 = (x) => `${Math.round(x)}`;
const cell = (s) => `${ms0(s.median)} (${ms0(s.min)}–${ms0(s.max)})`;
const yes = (ok) => (ok ? 'met' : 'NOT met');

export function formatStartupFigures(out, results) {
  out('### Start-up: navigation → first WebSocket → all five services connected');
  out();
  out(
    `Fresh browser context per load, release build, \`?broker=<ws url>\`; ms after the start ` +
      `of the navigation, median (min–max) of ${results[0].loads} loads per broker after one ` +
      'warm-up. "Five clients in" = five MQTT.js clients connecting over WebSocket one after ' +
      'the other from Node, after each load: the broker\'s own pace, which the page cannot ' +
      `beat (Chromium opens one WebSocket handshake at a time per host). Goals: first socket ` +
      `≤ ${FIRST_SOCKET_GOAL_MS} ms; first socket → all connected ≤ five clients in + ` +
      `${CONNECT_SLACK_MS} ms.`,
  );
  out();
  out(
    '| broker | first `new WebSocket` | first socket open | all five connected ' +
      '| first socket → all connected | five clients in (broker) | goals |',
  );
  out('|---|---:|---:|---:|---:|---:|---|');
  for (const s of results) {
    const v = startupVerdicts(s);
    out(
      `| ${s.broker} | ${cell(s.firstSocket)} | ${cell(s.firstOpen)} | ${cell(s.allConnected)} ` +
        `| ${cell(s.connecting)} | ${cell(s.floor)} ` +
        `| first socket ≤ ${FIRST_SOCKET_GOAL_MS} ms: ${yes(v.firstSocket)}; ` +
        `connected as the broker allows: ${yes(v.allConnected)} |`,
    );
  }
  out();
}
