// Our MQTT client (bench/src/js_client.rs, JsClient) running in a Chromium page, driven from
// Node. The page is e2e/interop-page.html; every wait polls the client's events in the page
// (page.waitForFunction), never sleeps.
//
//   const ours = await connectOurs(app, broker.wsUrl, { clientId: 'a1', version: 5 });
//   await ours.subscribe('t/#', 1);                    // resolves with the SUBACK codes
//   const { packetId } = await ours.publish('t/1', 'hi', 1);
//   await ours.waitFor({ type: 'delivered', packetId });
//   const [message] = await ours.waitFor({ type: 'message', topic: 't/1' });
//   await ours.closeAbruptly();

const WAIT_MS = 10_000;

/** One line per event, for failure messages. */
export function describeEvents(events) {
  if (events.length === 0) return '  (none)';
  return events
    .map((e) => {
      const { type, ...rest } = e;
      const fields = Object.entries(rest)
        .filter(([, v]) => v !== null && !(Array.isArray(v) && v.length === 0))
        .map(([k, v]) => `${k}=${JSON.stringify(v)}`);
      return `  ${type} ${fields.join(' ')}`;
    })
    .join('\n');
}

/** A payload the page can rebuild: strings as they are, bytes as { bytes: [...] }. */
function wirePayload(payload) {
  return typeof payload === 'string' ? payload : { bytes: [...payload] };
}

/**
 * Creates our client in the page (named `name`, its client id unless given) and, unless
 * `waitConnected` is false, waits for its CONNACK. Resolves with a handle; its `connected` is
 * the `connected` event (`sessionPresent`).
 */
export async function connectOurs(
  app,
  url,
  options,
  { name = options.clientId, waitConnected = true, waitMs = WAIT_MS } = {},
) {
  const ours = ourClient(app, name);
  await app.page.evaluate(({ name, url, options }) => window.interop.connect(name, url, options), {
    name,
    url,
    options,
  });
  if (waitConnected) [ours.connected] = await ours.waitFor({ type: 'connected' }, { waitMs });
  return ours;
}

/** A handle on the client `name` already in the page (see connectOurs). */
export function ourClient(app, name) {
  const { page } = app;
  const call = (method, ...args) =>
    page.evaluate(({ method, name, args }) => window.interop[method](name, ...args), {
      method,
      name,
      args,
    });

  const events = (pattern = {}) => call('find', pattern);

  /** Resolves with the matching events once there are `count` of them. */
  const waitFor = async (pattern, { count = 1, waitMs = WAIT_MS } = {}) => {
    try {
      const found = await page.waitForFunction(
        ({ name, pattern, count }) => {
          const matching = window.interop.find(name, pattern);
          return matching.length >= count && matching;
        },
        { name, pattern, count },
        { timeout: waitMs, polling: 20 },
      );
      return await found.jsonValue();
    } catch (error) {
      const seen = await events().catch(() => []);
      const pageErrors = app.errors.length ? `\npage errors:\n${app.errors.join('\n')}` : '';
      throw new Error(
        `our client ${name}: no ${count} × ${JSON.stringify(pattern)} within ${waitMs} ms ` +
          `(${error.message.split('\n')[0]}); it reported:\n${describeEvents(seen)}${pageErrors}`,
      );
    }
  };

  const handle = {
    name,
    connected: null,
    events,
    waitFor,
    /** Subscribes and resolves with the SUBACK's codes (QoS granted, or 0x80 and up). */
    async subscribe(filter, qos) {
      await call('subscribe', filter, qos);
      const [suback] = await waitFor({ type: 'subscribed', filters: [[filter, qos]] });
      return suback.granted;
    },
    async unsubscribe(filter) {
      await call('unsubscribe', filter);
      return (await waitFor({ type: 'unsubscribed', filters: [filter] }))[0];
    },
    /**
     * Publishes; `payload` is a string or bytes (Buffer, Uint8Array, array). `properties`:
     * `{ userProperties: [[k, v]], responseTopic, correlationData, contentType }` (5.0 only).
     * Resolves with `{ sent, packetId }` or `{ sent: false, queued }`.
     */
    publish: (topic, payload, qos, { retain = false, properties } = {}) => {
      const props = properties && {
        ...properties,
        ...(properties.correlationData !== undefined && {
          correlationData: wirePayload(properties.correlationData),
        }),
      };
      return call('publish', topic, wirePayload(payload), qos, retain, props);
    },
    /** Publishes at QoS 1 or 2 and waits until the broker has acknowledged it all. */
    async publishDelivered(topic, payload, qos, options) {
      const outcome = await handle.publish(topic, payload, qos, options);
      if (!outcome.sent) throw new Error(`${name}: the publish to ${topic} was queued, not sent`);
      await waitFor({ type: 'delivered', packetId: outcome.packetId, topic });
      return outcome;
    },
    disconnect: () => call('disconnect'),
    closeAbruptly: () => call('closeAbruptly'),
    /** The packets of our trace, as [direction, kind] pairs, filtered by `pattern`. */
    async trace(pattern = {}) {
      const packets = await events({ type: 'packet', ...pattern });
      return packets.map((p) => [p.direction, p.kind]);
    },
  };
  return handle;
}
