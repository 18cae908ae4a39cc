// The real page under load: frame times, long tasks and input responsiveness of the playground
// (Trunk's release build) while its five services handle N orders per second, against an idle
// baseline. Run by bench/run.mjs (`./scripts/bench --only frames`); method in
// docs/benchmarks.md, "The page under load".
//
//   const frames = await runFrames({ browser, appDir, options, log });
//   // frames.summary: medians over rounds, per window ('idle', 'load'); frames.rounds: raw data
//
// Only the DOM contract (docs/dom-contract.md) is used: the page's internals are not read.
// Each round opens a fresh page on a private Mosquitto with `payment_ms=0&inventory_ms=0` and
// the saga, dedupe and read model said on in the link (FEATURES_QUERY), waits until a first
// order has gone all the way through (all five services connected and subscribed), places
// 100 more so that the page's bounded lists are full (its steady state), scrolls the flow
// diagram (or the sequence diagram) into view, then measures:
//   - idle: nothing happens for `idleSeconds`;
//   - load: a timer inside the page clicks "Place 10 orders" on schedule, `rate` orders per
//     second for `seconds`, catching up if a timer fires late, so the harness does not set the
//     pace;
// and afterwards waits (polling, not sleeping) until every order has been processed.
// Recorded inside the page: requestAnimationFrame timestamps (frame intervals), long tasks
// (PerformanceObserver 'longtask', > 50 ms), and for each probe click (a real mouse click sent
// through Chromium's input pipeline every PROBE_MS onto a small box the bench adds, fixed in a
// corner of the viewport, outside the app) its input delay (first listener − the event's
// timestamp) and the time until the next frame's requestAnimationFrame callbacks run.
// Read from Chromium (Performance.getMetrics' TaskDuration): the page's main-thread time in
// the idle window and over the load and its drain, per order placed. An order counts as
// completed when an MQTT.js witness on the broker sees its `orders/confirmed`.

import { startBroker } from '../e2e/lib/broker.mjs';
import { openPage, panics } from '../e2e/lib/browser.mjs';
import { FLOW_TOPICS, startWitness } from '../e2e/lib/mqtt-witness.mjs';
import { serveDir } from '../e2e/lib/serve.mjs';

import { median, percentile } from './report.mjs';

const SERVICES = ['order', 'payment', 'inventory', 'notification', 'query'];
/** The saga's outcomes, as OrderService publishes them: an order completed or cancelled. */
const OUTCOME_TOPICS = ['orders/confirmed', 'orders/cancelled'];
/**
 * What the link switches on, said outright although each is the page's default
 * (core/src/state/query.rs): the saga (OrderService joins payment and stock, and confirms or
 * cancels each order), the idempotent consumer, and QueryService projecting OrderService's
 * event store into its read model at once. The event store itself is always kept.
 */
export const FEATURES_QUERY = 'saga=parallel&dedupe=on&projection_ms=0';
const CONNECT_TIMEOUT_MS = 30_000;
const WARMUP_TIMEOUT_MS = 30_000;
/** Orders placed (at 100 per second) before the measurement, to fill the page's lists. */
const WARMUP_ORDERS = 100;
/** How long the page may take, after the load window, to process what it was given. */
const DRAIN_TIMEOUT_MS = 120_000;
const POLL_MS = 200;
/** One probe click this often (in each window). */
export const PROBE_MS = 250;
const SLOW_FRAME_MS = 50;

/** What is on screen while the load runs (`--frames-view`): the part scrolled to, and the
 * link's `view` that shows it. */
const VIEWS = {
  flow: { query: '', target: '[data-testid="flow-svg"]', name: 'flow diagram' },
  sequence: { query: '&view=sequence', target: '[data-testid="sequence-scroll"]', name: 'sequence diagram' },
};

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

// ---- in the page ------------------------------------------------------------------------------

/** Installs the recorder (evaluated in the page). Everything is in performance.now() time. */
function installRecorder() {
  if (window.__edaBench) return;
  const r = { frames: [], longTasks: [], inputs: [], notes: [], busy: [] };
  // When the page says it is busy (html[data-busy], docs/dom-contract.md) and calm again.
  new MutationObserver(() => {
    const busy = document.documentElement.hasAttribute('data-busy');
    if (r.busy.at(-1)?.[1] !== busy) r.busy.push([performance.now(), busy]);
  }).observe(document.documentElement, { attributes: true, attributeFilter: ['data-busy'] });
  const onFrame = (t) => {
    r.frames.push(t);
    requestAnimationFrame(onFrame);
  };
  requestAnimationFrame(onFrame);
  try {
    new PerformanceObserver((list) => {
      for (const e of list.getEntries()) r.longTasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask' });
  } catch (error) {
    r.notes.push(`no long-task observer: ${error}`);
  }
  // Capture phase on window: the first code of the page to see the click.
  addEventListener(
    'pointerdown',
    (e) => {
      if (!e.isTrusted) return;
      const handled = performance.now();
      const hit =
        e.target.id ||
        e.target.closest?.('[data-testid]')?.getAttribute('data-testid') ||
        e.target.nodeName;
      requestAnimationFrame(() => {
        r.inputs.push([e.timeStamp, handled - e.timeStamp, performance.now() - e.timeStamp, hit]);
      });
    },
    { capture: true, passive: true },
  );
  window.__edaBench = r;
}

/**
 * Starts the load (evaluated in the page): `rate` orders per second for `seconds`, by clicking
 * "Place 10 orders" (or "Place order" below 10 orders per second, and for a remainder) whenever
 * that many orders are due. Returns the start time; `window.__edaLoad.done` resolves at the end.
 */
function startLoad({ rate, seconds }) {
  const ten = document.querySelector('[data-testid="place-ten"]');
  const one = document.querySelector('[data-testid="place-order"]');
  if (!ten || !one) throw new Error('no [data-testid="place-ten"] or [data-testid="place-order"]');
  const burst = rate >= 10 ? 10 : 1;
  const total = Math.round(rate * seconds);
  const t0 = performance.now();
  const end = t0 + seconds * 1000;
  const load = { t0, end, t1: null, placed: 0, clicks: 0, maxLagMs: 0 };
  load.done = new Promise((resolve) => {
    const tick = () => {
      const now = performance.now();
      const due = now >= end ? total : Math.min(total, Math.floor(((now - t0) * rate) / 1000));
      // How late the orders placed now are (the first of them was due this long ago).
      if (due - load.placed >= burst) {
        const dueAt = t0 + ((load.placed + burst) * 1000) / rate;
        load.maxLagMs = Math.max(load.maxLagMs, now - dueAt);
      }
      while (due - load.placed >= burst) {
        (burst === 10 ? ten : one).click();
        load.placed += burst;
        load.clicks += 1;
      }
      if (now >= end) {
        while (load.placed < total) {
          one.click();
          load.placed += 1;
          load.clicks += 1;
        }
      }
      if (load.placed >= total) {
        clearInterval(timer);
        load.t1 = performance.now();
        const { done: _, ...result } = load;
        resolve(result);
      }
    };
    const timer = setInterval(tick, 10);
  });
  window.__edaLoad = load;
  return t0;
}

/**
 * Brings the flow diagram, where the load is animated, into the middle of the viewport (or,
 * without one, leaves the page at its top), and adds the probe clicks' target: a 12 × 12 px
 * transparent box fixed in the viewport's lower left corner, a child of <html> outside the app's
 * <body>, with no handler; so a click lands on it whatever the layout does, and reaches no code
 * of the app. Evaluated in the page; returns the point to click and what is in view.
 */
function aimProbe({ target, name }) {
  const svg = document.querySelector(target);
  if (svg) svg.scrollIntoView({ block: 'center', behavior: 'instant' });
  const box = document.createElement('div');
  box.id = 'eda-bench-probe';
  box.style.cssText = [
    'position:fixed',
    'left:0',
    'bottom:0',
    'width:12px',
    'height:12px',
    'z-index:2147483647',
    'background:transparent',
  ].join(';');
  document.documentElement.appendChild(box);
  return { x: 6, y: innerHeight - 6, view: svg ? name : 'top of the page' };
}

/**
 * Keeps the flow diagram where aimProbe put it (evaluated in the page), as a viewer scrolled to
 * it would: whenever the page's height changes, scrolls it back by as much as it moved. (Lists
 * above it change height under load, and the browser's scroll anchoring does not make up for
 * it.) A ResizeObserver runs after layout, before paint: no extra layout, and nothing at all
 * while the page's height stays put. Counts the corrections and the largest.
 */
function pinFlowDiagram(target) {
  const svg = document.querySelector(target);
  const r = window.__edaBench;
  if (!svg || r.pin) return;
  const top = svg.getBoundingClientRect().top;
  r.pin = { corrections: 0, maxShiftPx: 0 };
  new ResizeObserver(() => {
    const shift = svg.getBoundingClientRect().top - top;
    if (Math.abs(shift) < 1) return;
    scrollBy({ top: shift, behavior: 'instant' });
    r.pin.corrections += 1;
    r.pin.maxShiftPx = Math.max(r.pin.maxShiftPx, Math.abs(shift));
  }).observe(document.documentElement);
}

/** Whether the flow diagram is (at least half) in the viewport (evaluated in the page). */
function flowInView(target) {
  const r = document.querySelector(target)?.getBoundingClientRect();
  if (!r) return false;
  const visible = Math.min(r.bottom, innerHeight) - Math.max(r.top, 0);
  return visible >= r.height / 2;
}

/** What the page shows about the orders (evaluated in the page; DOM contract only). */
function pageCounts() {
  const all = (selector) => document.querySelectorAll(selector);
  const notifications = all('[data-testid="notification"]');
  // "N older notifications not shown." has no test id: read in the notifications' section.
  const section = notifications[0]?.closest('section');
  const older = [...(section?.querySelectorAll('p') ?? [])]
    .map((p) => /^(\d+) older notifications? not shown/.exec(p.textContent.trim()))
    .find(Boolean);
  const notShown = document.querySelector('[data-testid="packets-not-shown"]');
  // The number nearest before "dropped": "…, 12 dropped from the history." or "14000 older
  // packets were dropped from the history…".
  const dropped = notShown?.dataset.dropped
    ? [null, notShown.dataset.dropped]
    : /(\d[\d,]*)\D*dropped/.exec(notShown?.textContent ?? '');
  const overflow = [...all('[data-testid="flow-edge-overflow"]')].reduce(
    (sum, e) => sum + (Number(/\d+/.exec(e.textContent)?.[0]) || 0),
    0,
  );
  return {
    notificationsShown: notifications.length,
    notificationsOlder: older ? Number(older[1]) : 0,
    // Known only when the page says how many it stopped showing, or when it shows fewer than
    // the bound it would start dropping at; the caller decides.
    olderTextFound: Boolean(older),
    packetsNotShown: notShown ? notShown.textContent.trim() : null,
    // No inspector on the page (`--frames-view sequence`): not known.
    packetsDropped: !document.querySelector('.packet-inspector')
      ? null
      : dropped
        ? Number(dropped[1].replaceAll(',', ''))
        : notShown
          ? null
          : 0,
    pulses: all('[data-testid="flow-pulse"]').length,
    pulseOverflow: overflow,
    packetRows: all('[data-testid="packet-row"]').length,
    formError: document.querySelector('[data-testid="form-error"]')?.textContent ?? null,
    states: Object.fromEntries(
      ['order', 'payment', 'inventory', 'notification'].map((s) => [
        s,
        document.querySelector(`[data-testid="status-${s}"]`)?.getAttribute('data-state') ?? null,
      ]),
    ),
  };
}

// ---- in Node ----------------------------------------------------------------------------------

function countBy(values) {
  const counts = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

function countTopics(messages, from = 0) {
  const counts = Object.fromEntries([...FLOW_TOPICS, ...OUTCOME_TOPICS].map((t) => [t, 0]));
  for (let i = from; i < messages.length; i++) {
    if (messages[i].topic in counts) counts[messages[i].topic] += 1;
  }
  return counts;
}

/** Probe clicks every PROBE_MS until `untilMs` (Date.now() time); a click waits for its ack. */
async function probeUntil(page, point, untilMs) {
  let sent = 0;
  while (Date.now() < untilMs) {
    const next = Date.now() + PROBE_MS;
    await page.mouse.click(point.x, point.y);
    sent += 1;
    await sleep(Math.max(0, next - Date.now()));
  }
  return sent;
}

async function waitConnected(page) {
  await page
    .waitForFunction(
      (services) =>
        services.every(
          (s) =>
            document.querySelector(`[data-testid="status-${s}"]`)?.getAttribute('data-state') ===
            'connected',
        ),
      SERVICES,
      { timeout: CONNECT_TIMEOUT_MS, polling: POLL_MS },
    )
    .catch(async (error) => {
      const states = await page.evaluate(pageCounts).then((c) => JSON.stringify(c.states));
      throw new Error(
        `the five services were not connected within ${CONNECT_TIMEOUT_MS} ms: ${states}`,
        {
          cause: error,
        },
      );
    });
}

/** Notifications the page has received: shown + "N older notifications not shown". */
const notificationTotal = (counts) => counts.notificationsShown + counts.notificationsOlder;

/**
 * After orders were placed: polls until every one of them has been published by OrderService,
 * answered by PaymentService and InventoryService (as the witness sees on the broker; `from` =
 * the witness's message count before), and the page counts three more notifications per order
 * than `notificationsBefore`. Returns what it saw and how long it took.
 */
async function drain(
  page,
  witness,
  { from, placed, notificationsBefore, timeoutMs = DRAIN_TIMEOUT_MS },
) {
  const t0 = Date.now();
  let counts;
  let shown;
  for (;;) {
    counts = countTopics(witness.messages, from);
    shown = await page.evaluate(pageCounts);
    const published =
      counts['orders/created'] >= placed &&
      counts['payments/processed'] >= placed &&
      counts['inventory/reserved'] >= placed &&
      counts['orders/confirmed'] + counts['orders/cancelled'] >= placed;
    // Without the "N older notifications not shown" line the page's total is unknown once it
    // shows fewer than it received: then the witness alone decides.
    const notified = notificationTotal(shown) - notificationsBefore >= 3 * placed;
    const complete = published && (notified || !shown.olderTextFound);
    if (complete) return { counts, page: shown, drainMs: Date.now() - t0, complete: true };
    if (Date.now() - t0 > timeoutMs) {
      return { counts, page: shown, drainMs: Date.now() - t0, complete: false };
    }
    await sleep(POLL_MS);
  }
}

/**
 * Places one order and waits until its three notifications are shown: the services are
 * connected and subscribed, the flow works. Then WARMUP_ORDERS more at 100 per second, and
 * waits until they are processed: the page's bounded lists (notifications, event logs, packet
 * history) are then full, as they are after a second of load, so the layout no longer grows
 * and the idle window sees the page in its steady state.
 */
async function warmUp(page, witness) {
  const before = witness.messages.length;
  // The form takes orders once every service has subscribed (data-ready, docs/dom-contract.md).
  await page.locator('[data-testid="place-order"][data-ready="true"]').waitFor({ timeout: CONNECT_TIMEOUT_MS });
  await page.click('[data-testid="place-order"]');
  await page
    .waitForFunction(
      () => document.querySelectorAll('[data-testid="notification"]').length >= 3,
      null,
      {
        timeout: WARMUP_TIMEOUT_MS,
        polling: POLL_MS,
      },
    )
    .catch((error) => {
      throw new Error(
        `a first order did not complete within ${WARMUP_TIMEOUT_MS} ms ` +
          `(witness saw ${JSON.stringify(countTopics(witness.messages, before))})`,
        { cause: error },
      );
    });
  // Everything the first order published has reached the witness too.
  await witness.roundTrip();
  const from = witness.messages.length;
  const notificationsBefore = notificationTotal(await page.evaluate(pageCounts));
  await page.evaluate(startLoad, { rate: 100, seconds: WARMUP_ORDERS / 100 });
  const { placed } = await page.evaluate(() => window.__edaLoad.done);
  const drained = await drain(page, witness, {
    from,
    placed,
    notificationsBefore,
    timeoutMs: WARMUP_TIMEOUT_MS,
  });
  if (!drained.complete) {
    throw new Error(
      `the ${placed} warm-up orders were not processed within ${WARMUP_TIMEOUT_MS} ms ` +
        `(witness saw ${JSON.stringify(drained.counts)})`,
    );
  }
}

/** Frame intervals, long tasks and probes of one window [from, to) in page time. */
function windowStats(rec, from, to) {
  const intervals = [];
  for (let i = 1; i < rec.frames.length; i++) {
    const t = rec.frames[i];
    if (t > from && t <= to) intervals.push(t - rec.frames[i - 1]);
  }
  const tasks = rec.longTasks.filter(([start]) => start >= from && start < to);
  const inputs = rec.inputs.filter(([stamp]) => stamp >= from && stamp < to);
  const delays = inputs.map(([, delay]) => delay);
  const nextFrames = inputs.map(([, , nextFrame]) => nextFrame);
  const seconds = (to - from) / 1000;
  const blocked = tasks.reduce((sum, [, duration]) => sum + duration, 0);
  // The first time the page turned busy within the window; the long tasks before and after it.
  const busySince = rec.busy.find(([t, busy]) => busy && t >= from && t < to)?.[0] ?? null;
  const longest = (list) => (list.length ? Math.max(...list.map(([, d]) => d)) : 0);
  return {
    busyAfter: busySince === null ? null : busySince - from,
    longTaskMaxBeforeBusy: busySince === null ? null : longest(tasks.filter(([start]) => start < busySince)),
    longTaskMaxOnceBusy: busySince === null ? null : longest(tasks.filter(([start]) => start >= busySince)),
    seconds,
    frames: intervals.length,
    fps: intervals.length / seconds,
    intervalP50: percentile(intervals, 50),
    intervalP95: percentile(intervals, 95),
    intervalP99: percentile(intervals, 99),
    intervalMax: Math.max(...intervals),
    slowShare: intervals.filter((x) => x > SLOW_FRAME_MS).length / intervals.length,
    longTasks: tasks.length,
    longTaskMs: blocked,
    longTaskShare: blocked / (to - from),
    longTaskMax: tasks.length ? Math.max(...tasks.map(([, d]) => d)) : 0,
    probes: inputs.length,
    inputDelayP50: percentile(delays, 50),
    inputDelayP95: percentile(delays, 95),
    nextFrameP50: percentile(nextFrames, 50),
    nextFrameP95: percentile(nextFrames, 95),
    intervals,
  };
}

async function runRound({ browser, server, broker, witness, options, round, log }) {
  const view = VIEWS[options.framesView ?? 'flow'];
  const query =
    `?broker=${broker.wsUrl}&payment_ms=0&inventory_ms=0&${FEATURES_QUERY}${view.query}`;
  const app = await openPage(browser, `${server.url}/${query}`, { timeoutMs: 60_000 });
  const fail = (what, error) => {
    const found = panics(app);
    return new Error(
      `frames round ${round + 1}: ${what}: ${error.message.split('\n')[0]}` +
        (found.length ? `\n${found.join('\n')}` : '') +
        (app.errors.length ? `\npage errors:\n${app.errors.slice(-10).join('\n')}` : ''),
      { cause: error },
    );
  };
  try {
    try {
      await waitConnected(app.page);
      await warmUp(app.page, witness);
    } catch (error) {
      throw fail('the page did not get ready', error);
    }
    await app.page.evaluate(installRecorder);
    const point = await app.page.evaluate(aimProbe, view);
    if (point.view === view.name) await app.page.evaluate(pinFlowDiagram, view.target);
    // The idle window starts at rest: the warm-up orders' dots gone (they live about 2 s).
    await app.page
      .waitForFunction(() => !document.querySelector('[data-testid="flow-pulse"]'), null, {
        timeout: 10_000,
        polling: POLL_MS,
      })
      .catch(() => log(`frames: round ${round + 1}: dots still drawn before the idle window`));
    await sleep(500);

    // Chromium's own count of the page's main-thread time (Performance.getMetrics'
    // TaskDuration, as bench/profile/per-order.mjs reads it), idle and over the load + drain.
    const cdp = await app.page.context().newCDPSession(app.page);
    await cdp.send('Performance.enable');
    const taskMs = async () => {
      const { metrics } = await cdp.send('Performance.getMetrics');
      return 1000 * metrics.find((m) => m.name === 'TaskDuration').value;
    };
    const idleTask0 = await taskMs();
    const idleFrom = await app.page.evaluate(() => performance.now());
    await probeUntil(app.page, point, Date.now() + options.framesIdleSeconds * 1000);
    const idleTo = await app.page.evaluate(() => performance.now());
    const idleTaskMs = (await taskMs()) - idleTask0;

    const from = witness.messages.length;
    const beforeLoad = await app.page.evaluate(pageCounts);
    const cpu0 = process.cpuUsage();
    const loadTask0 = await taskMs();
    const loadFrom = await app.page.evaluate(startLoad, {
      rate: options.framesRate,
      seconds: options.framesSeconds,
    });
    const probesSent = await probeUntil(app.page, point, Date.now() + options.framesSeconds * 1000);
    const load = await app.page.evaluate(() => window.__edaLoad.done);
    const cpu = process.cpuUsage(cpu0);
    const atLoadEnd = await app.page.evaluate(pageCounts);
    const flowStillInView = await app.page.evaluate(flowInView, view.target);
    const loadTo = Math.max(load.end, load.t1);

    const drained = await drain(app.page, witness, {
      from,
      placed: load.placed,
      notificationsBefore: notificationTotal(beforeLoad),
    });
    const loadTaskMs = (await taskMs()) - loadTask0;
    const loadTaskSpan = (await app.page.evaluate(() => performance.now())) - loadFrom;
    // The inspector stops redrawing while scrolled away: bring it in to read its count.
    if (await app.page.locator('.packet-inspector').count()) {
      await app.page.locator('.packet-inspector').scrollIntoViewIfNeeded();
    }
    await app.page.evaluate(
      () => new Promise((resolve) => {
        let n = 0;
        const next = () => (++n >= 4 ? resolve() : requestAnimationFrame(next));
        requestAnimationFrame(next);
      }),
    );
    const inspector = await app.page.evaluate(pageCounts);
    drained.page.packetsDropped = inspector.packetsDropped;
    drained.page.packetsNotShown = inspector.packetsNotShown;
    drained.page.packetRows = inspector.packetRows;
    const rec = await app.page.evaluate(() => window.__edaBench);
    const found = panics(app);
    if (found.length)
      throw new Error(`frames round ${round + 1}: the page panicked:\n${found.join('\n')}`);

    const idle = windowStats(rec, idleFrom, idleTo);
    const loaded = windowStats(rec, loadFrom, loadTo);
    const completed = drained.counts['orders/confirmed'];
    // Main-thread ms per order: everything over the load and its drain, and the same less what
    // the page spends idle over as long (frames, timers, the probe clicks).
    const idleTaskRate = idleTaskMs / (idleTo - idleFrom);
    const mainThread = {
      msPerOrder: loadTaskMs / load.placed,
      netMsPerOrder: (loadTaskMs - idleTaskRate * loadTaskSpan) / load.placed,
      busyShare: loadTaskMs / loadTaskSpan,
      idleBusyShare: idleTaskRate,
    };
    log(
      `frames: round ${round + 1}/${options.framesRounds}: ` +
        `idle p50 ${idle.intervalP50.toFixed(1)} ms, load p50 ${loaded.intervalP50.toFixed(1)} / ` +
        `p99 ${loaded.intervalP99.toFixed(1)} ms, ${load.placed} orders placed, ` +
        `${completed} completed ${(drained.drainMs / 1000).toFixed(1)} s after the load, ` +
        `${mainThread.msPerOrder.toFixed(2)} ms main thread per order` +
        (drained.complete ? '' : ' (NOT all: gave up waiting)'),
    );
    return {
      round,
      idle,
      load: loaded,
      mainThread,
      orders: {
        placed: load.placed,
        clicks: load.clicks,
        rate: load.placed / ((load.t1 - load.t0) / 1000),
        maxLagMs: load.maxLagMs,
        published: drained.counts['orders/created'],
        payments: drained.counts['payments/processed'],
        inventory: drained.counts['inventory/reserved'],
        confirmed: drained.counts['orders/confirmed'],
        cancelled: drained.counts['orders/cancelled'],
        // Received during the load and after it; unknown without the "older not shown" count.
        notifications: drained.page.olderTextFound
          ? notificationTotal(drained.page) - notificationTotal(beforeLoad)
          : null,
        notificationsOlderTextFound: drained.page.olderTextFound,
        complete: drained.complete,
        drainMs: drained.drainMs,
        // Dropped from the packet history during the load and after it.
        packetsDropped:
          drained.page.packetsDropped === null || beforeLoad.packetsDropped === null
            ? null
            : drained.page.packetsDropped - beforeLoad.packetsDropped,
        packetsDroppedBefore: beforeLoad.packetsDropped,
        packetsNotShown: drained.page.packetsNotShown,
        packetRows: drained.page.packetRows,
        formError: drained.page.formError,
      },
      view: point.view,
      viewport: app.page.viewportSize(),
      probeHits: countBy(rec.inputs.map((x) => x[3])),
      pin: rec.pin ?? null,
      atLoadEnd: {
        flowInView: flowStillInView,
        pulses: atLoadEnd.pulses,
        pulseOverflow: atLoadEnd.pulseOverflow,
        packetRows: atLoadEnd.packetRows,
      },
      probesSent,
      // The harness's own CPU time (this Node process: witness, probe clicks) in the load window.
      harnessCpuShare: (cpu.user + cpu.system) / 1000 / (loadTo - loadFrom),
      notes: rec.notes,
      errors: [...app.errors],
    };
  } finally {
    await app.close();
  }
}

const WINDOW_FIELDS = [
  'fps',
  'intervalP50',
  'intervalP95',
  'intervalP99',
  'intervalMax',
  'slowShare',
  'longTasks',
  'longTaskMs',
  'longTaskShare',
  'longTaskMax',
  'probes',
  'inputDelayP50',
  'inputDelayP95',
  'nextFrameP50',
  'nextFrameP95',
];

/** Medians over rounds (with min and max) of every window figure and of the order counts. */
export function summarizeFrames(rounds) {
  const spread = (values) => ({
    median: median(values),
    min: Math.min(...values),
    max: Math.max(...values),
  });
  const windows = {};
  for (const name of ['idle', 'load']) {
    windows[name] = Object.fromEntries(
      WINDOW_FIELDS.map((field) => [field, spread(rounds.map((r) => r[name][field]))]),
    );
  }
  const orders = Object.fromEntries(
    [
      'placed',
      'rate',
      'maxLagMs',
      'published',
      'payments',
      'inventory',
      'confirmed',
      'cancelled',
      'notifications',
      'drainMs',
    ].map((field) => {
      const values = rounds.map((r) => r.orders[field]);
      return [field, values.includes(null) ? null : spread(values)];
    }),
  );
  // When the load made the page busy, in the rounds where it did.
  const busyAfter = Object.fromEntries(
    ['busyAfter', 'longTaskMaxBeforeBusy', 'longTaskMaxOnceBusy'].map((field) => {
      const values = rounds.map((r) => r.load[field]).filter((v) => v !== null && v !== undefined);
      return [field, values.length ? { ...spread(values), rounds: values.length } : null];
    }),
  );
  const dropped = rounds.map((r) => r.orders.packetsDropped);
  const harness = rounds.map((r) => r.harnessCpuShare);
  const mainThread = Object.fromEntries(
    ['msPerOrder', 'netMsPerOrder', 'busyShare', 'idleBusyShare'].map((field) => [
      field,
      spread(rounds.map((r) => r.mainThread[field])),
    ]),
  );
  return {
    windows,
    busyAfter,
    mainThread,
    orders,
    allComplete: rounds.every((r) => r.orders.complete),
    packetsDropped: dropped.every((d) => d !== null) ? spread(dropped) : null,
    packetsNotShown: rounds.map((r) => r.orders.packetsNotShown),
    harnessCpuShare: spread(harness),
    atLoadEnd: rounds.map((r) => r.atLoadEnd),
    views: [...new Set(rounds.map((r) => r.view))],
    viewport: rounds[0].viewport,
    pins: rounds.map((r) => r.pin),
    probeHits: countBy(
      rounds.flatMap((r) => Object.entries(r.probeHits).flatMap(([k, n]) => Array(n).fill(k))),
    ),
    formErrors: rounds.map((r) => r.orders.formError).filter(Boolean),
    pageErrors: rounds.flatMap((r) => r.errors),
    notes: [...new Set(rounds.flatMap((r) => r.notes))],
    rounds: rounds.length,
    probeMs: PROBE_MS,
  };
}

/**
 * Runs every round on its own page, all on one private Mosquitto watched by one MQTT.js
 * witness; returns { summary, rounds } (rounds without the raw frame intervals in `summary`).
 */
export async function runFrames({ browser, appDir, options, log = console.error }) {
  const total = options.framesRate * options.framesSeconds;
  // Nothing may be dropped by the broker: room for every message of every round.
  const broker = await startBroker({
    logAll: false,
    settings: { max_inflight_messages: 20, max_queued_messages: Math.max(10_000, 10 * total) },
  });
  const server = await serveDir(appDir);
  let witness;
  try {
    witness = await startWitness({
      tcpPort: broker.tcpPort,
      topics: [...FLOW_TOPICS, ...OUTCOME_TOPICS],
    });
    const rounds = [];
    const started = Date.now();
    for (let round = 0; round < options.framesRounds; round++) {
      rounds.push(await runRound({ browser, server, broker, witness, options, round, log }));
    }
    log(`frames: ${rounds.length} rounds in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    return { summary: summarizeFrames(rounds), rounds };
  } finally {
    await witness?.close();
    await server.close();
    await broker.stop();
  }
}
