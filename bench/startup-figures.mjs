// The page's start, as issue 14 counts it: navigation → the first `new WebSocket`, and
// navigation → all five services `connected`, over several fresh loads, against Mosquitto and
// against aedes; beside it, what "as soon as the broker allows" can mean, measured in the same
// run: the bare page (bench/socket-floor.html: as many WebSockets as the page opens, to the same
// broker, from the same origin, in the same browser, a CONNECT on each as soon as it is open,
// and nothing else) and, for the broker's own pace, five MQTT.js clients connecting one after
// the other from Node. Run by bench/run.mjs (`--only startup`).
//
//   const startup = await runStartupFigures({ browser, appDir, loads: 7, log });
//   formatStartupFigures(out, startup);
//
// Each load is a fresh browser context (empty cache and storage) opening the release build with
// `?broker=<ws url>`, timed by bench/startup.mjs's probe (`loadOnce`): a script run before the
// page's own notes when each WebSocket is created and opened and when each `status-<service>`
// badge first says `connected`, in the page's performance.now() time, whose 0 is the start of
// the navigation. Then a fresh context loads the bare page (`bareLoadOnce`), then the Node
// clients connect. One load of each per broker is a warm-up (the broker's, the server's and
// Chromium's first time), not counted.

import mqtt from 'mqtt';

import { startAedes } from '../e2e/lib/aedes.mjs';
import { startBroker } from '../e2e/lib/broker.mjs';
import { serveDir } from '../e2e/lib/serve.mjs';

import { median } from './report.mjs';
import { BARE_PAGE, bareLoadOnce, loadOnce, SERVICES } from './startup.mjs';

/** Issue 14: the first socket at most this long after navigation. */
export const FIRST_SOCKET_GOAL_MS = 150;
/**
 * Our reading of "all services connected as soon as the broker allows": the time from the first
 * `new WebSocket` to the last service connected is at most the bare page's time from its first
 * `new WebSocket` to the CONNACK on its fifth socket (the last service's: measured in the same
 * run, same browser, same broker) plus this much.
 */
export const CONNECT_SLACK_MS = 100;

/**
 * Five MQTT.js clients over WebSocket from Node, one after the other: ms until the fifth is in.
 * The broker's own pace, without a browser (a column of the table, judged against nothing).
 */
async function nodeClientsIn(wsUrl) {
  const clients = [];
  const t0 = performance.now();
  try {
    for (let i = 0; i < SERVICES.length; i++) {
      clients.push(
        await mqtt.connectAsync(wsUrl, {
          protocolVersion: 4,
          clientId: `eda-bench-node-${process.pid}-${i}-${Date.now()}`,
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
  const bare = (sockets) => bareLoadOnce(browser, server.url, broker.wsUrl, sockets);
  await bare((await loadOnce(browser, url)).sockets); // warm-up, not counted
  const runs = [];
  const bares = [];
  const nodes = [];
  for (let i = 0; i < loads; i++) {
    const run = await loadOnce(browser, url);
    if (run.errors.length) log(`startup: ${name}: page errors: ${run.errors.join(' | ')}`);
    runs.push(run);
    bares.push(await bare(run.sockets));
    nodes.push(await nodeClientsIn(broker.wsUrl));
  }
  const connecting = (r) => r.allConnected - r.firstSocket;
  const pick = (field) => spread(runs.map((r) => r[field]));
  const summary = {
    broker: name,
    loads,
    firstSocket: pick('firstSocket'),
    firstOpen: pick('firstOpen'),
    allConnected: pick('allConnected'),
    connecting: spread(runs.map(connecting)),
    bare: {
      firstSocket: spread(bares.map((r) => r.firstSocket)),
      allConnected: spread(bares.map((r) => r.allConnected)),
      connecting: spread(bares.map(connecting)),
    },
    nodeClients: spread(nodes),
    sockets: [...new Set(runs.map((r) => r.sockets))],
  };
  log(
    `startup: ${name}: first socket ${summary.firstSocket.median.toFixed(0)} ms, all connected ` +
      `${summary.allConnected.median.toFixed(0)} ms (median of ${loads}); the bare page: ` +
      `${summary.bare.connecting.median.toFixed(0)} ms from its first socket to the fifth ` +
      `CONNACK; Node: five clients in ${summary.nodeClients.median.toFixed(0)} ms`,
  );
  return summary;
}

/** Start-up figures against Mosquitto (Debian's, as the e2e suite runs it) and aedes (npm). */
export async function runStartupFigures({ browser, appDir, loads, log = console.error }) {
  const server = await serveDir(appDir, { also: { [BARE_PAGE.path]: BARE_PAGE.file } });
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
    allConnected: s.connecting.median <= s.bare.connecting.median + CONNECT_SLACK_MS,
  };
}

const ms0 = (x) => `${Math.round(x)}`;
const cell = (s) => `${ms0(s.median)} (${ms0(s.min)}–${ms0(s.max)})`;
const yes = (ok) => (ok ? 'met' : 'NOT met');

export function formatStartupFigures(out, results) {
  out('### Start-up: navigation → first WebSocket → all five services connected');
  out();
  out(
    `Fresh browser context per load, release build, \`?broker=<ws url>\`; ms, median (min–max) ` +
      `of ${results[0].loads} loads per broker after one warm-up. The yardstick, from issue 14 ` +
      '("the four services connected as soon as the broker allows (Mosquitto 2.0.11 needs ' +
      'about 200 ms per WebSocket handshake and the browser opens them one at a time per host)"): ' +
      'after each load, a bare page (bench/socket-floor.html: no wasm, no rendering) from the ' +
      'same server, in a fresh context of the same browser, opens as many WebSockets to the ' +
      'same broker and sends a CONNECT on each the moment it opens; its "first socket → five ' +
      'CONNACKs" runs to the CONNACK on the fifth socket, the last service\'s. "Node: five ' +
      'clients in" = five MQTT.js clients connecting one after the other from Node: the ' +
      `broker's own pace, shown, not judged. Goals: first socket ≤ ${FIRST_SOCKET_GOAL_MS} ms; ` +
      `page's first socket → all connected ≤ the bare page's first socket → five CONNACKs + ` +
      `${CONNECT_SLACK_MS} ms.`,
  );
  out();
  out(
    '| broker | first `new WebSocket` | first socket open | all five connected ' +
      '| first socket → all connected | bare page: first socket → five CONNACKs ' +
      '| Node: five clients in | goals |',
  );
  out('|---|---:|---:|---:|---:|---:|---:|---|');
  for (const s of results) {
    const v = startupVerdicts(s);
    out(
      `| ${s.broker} | ${cell(s.firstSocket)} | ${cell(s.firstOpen)} | ${cell(s.allConnected)} ` +
        `| ${cell(s.connecting)} | ${cell(s.bare.connecting)} | ${cell(s.nodeClients)} ` +
        `| first socket ≤ ${FIRST_SOCKET_GOAL_MS} ms: ${yes(v.firstSocket)}; ` +
        `connected as the broker allows: ${yes(v.allConnected)} |`,
    );
  }
  out();
}
