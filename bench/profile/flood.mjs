// Where the main thread goes while the page handles a flood of junk on `orders/created` (each
// message a dead letter at each of its consumers). Not part of ./scripts/bench: a one-off probe
// (40-AG F2: 3,000 junk messages stalled the page for 4–6 s).
//
//   node bench/profile/flood.mjs --app-dir /tmp/rel-g [--junk 3000] [--no-samples]
//
// --app-dir: Trunk's release output, its .wasm with names kept for the profile (README here).
// Prints: the time from the first junk message to the last dead letter counted on the page,
// the page's long tasks in that window (count, longest, sum), and (unless --no-samples) the
// functions with the most self time in the V8 CPU profile of that window.

import { parseArgs } from 'node:util';

import mqtt from 'mqtt';

import { startBroker } from '../../e2e/lib/broker.mjs';
import { launchBrowser, openPage } from '../../e2e/lib/browser.mjs';
import { serveDir } from '../../e2e/lib/serve.mjs';

const { values: args } = parseArgs({
  options: {
    'app-dir': { type: 'string', default: 'target/bench-app' },
    junk: { type: 'string', default: '3000' },
    'no-samples': { type: 'boolean', default: false },
    top: { type: 'string', default: '40' },
    callers: { type: 'string' },
  },
});
const APP_DIR = args['app-dir'];
const JUNK = Number(args.junk);
const SAMPLES = !args['no-samples'];
const CONSUMERS = 4; // orders/created: PaymentService, InventoryService, NotificationService, QueryService

const broker = await startBroker({ logAll: false });
const server = await serveDir(APP_DIR);
const browser = await launchBrowser();
try {
  const { page } = await openPage(browser, `${server.url}/?broker=${broker.wsUrl}&payment_ms=0&inventory_ms=0`);
  await page.locator('[data-testid="place-order"][data-ready="true"]').waitFor({ timeout: 30_000 });
  await page.evaluate(() => {
    window.__long = [];
    new PerformanceObserver((list) => window.__long.push(...list.getEntries().map((e) => [e.startTime, e.duration]))).observe({ type: 'longtask', buffered: false });
  });
  const cdp = await page.context().newCDPSession(page);
  if (SAMPLES) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
    await cdp.send('Profiler.start');
  }
  const client = mqtt.connect(`mqtt://127.0.0.1:${broker.tcpPort}`, { clientId: 'flood-probe', reconnectPeriod: 0 });
  await new Promise((resolve, reject) => { client.once('connect', resolve); client.once('error', reject); });
  const t0 = await page.evaluate(() => performance.now());
  await Promise.all(Array.from({ length: JUNK }, (_, i) => client.publishAsync('orders/created', `junk ${i}`, { qos: 1 })));
  const letters = JUNK * CONSUMERS;
  await page.waitForFunction((n) => document.querySelector('[data-testid="dead-letters-count"]')?.textContent === ` — ${n}`, letters, { timeout: 300_000, polling: 100 });
  const t1 = await page.evaluate(() => performance.now());
  const long = (await page.evaluate(() => window.__long)).filter(([start]) => start >= t0);
  const sum = long.reduce((s, [, d]) => s + d, 0);
  console.log(`junk ${JUNK} → ${letters} dead letters counted in ${(t1 - t0).toFixed(0)} ms`);
  console.log(`long tasks: ${long.length}, longest ${Math.max(0, ...long.map(([, d]) => d)).toFixed(0)} ms, sum ${sum.toFixed(0)} ms`);
  if (SAMPLES) {
    const { profile } = await cdp.send('Profiler.stop');
    const byId = new Map(profile.nodes.map((n) => [n.id, n]));
    const self = new Map();
    profile.samples.forEach((id, i) => {
      const node = byId.get(id);
      const name = node.callFrame.functionName || `(${node.callFrame.url.split('/').pop() || 'anonymous'})`;
      self.set(name, (self.get(name) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    });
    const total = [...self.values()].reduce((a, b) => a + b, 0);
    console.log(`\n| self ms | share | function |\n|---:|---:|---|`);
    for (const [name, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(args.top))) {
      console.log(`| ${ms.toFixed(0)} | ${((100 * ms) / total).toFixed(1)} % | ${name.slice(0, 120)} |`);
    }
    // --callers SUBSTRING: who called the functions whose name holds it, by their self time.
    if (args.callers) {
      const parent = new Map();
      for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n);
      const callers = new Map();
      profile.samples.forEach((id, i) => {
        const node = byId.get(id);
        if (!node.callFrame.functionName.includes(args.callers)) return;
        const up = parent.get(node.id)?.callFrame.functionName ?? '(root)';
        callers.set(up, (callers.get(up) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
      });
      console.log(`\ncallers of *${args.callers}*:`);
      for (const [name, ms] of [...callers].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${ms.toFixed(0)} ms  ${name.slice(0, 120)}`);
    }
  }
  await client.endAsync();
} finally {
  await browser.close();
  await server.close?.();
  await broker.stop?.();
}
