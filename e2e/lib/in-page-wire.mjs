// A witness of the in-page broker's wire. Nothing outside the page can connect to that broker
// (it lives in the page's Web Worker), so the witness taps the page's MessagePorts instead:
// every ArrayBuffer the page posts to a port, or receives on one, is copied as it passes, and
// parsed here by MQTT.js's own packet parser (mqtt-packet), independent of our codec.
//
//   await tapMessagePorts(page);          // before page.goto
//   const wire = await readWire(page);    // [{ port, dir: 'out'|'in', clientId, protocolVersion, packet }]

import mqttPacket from 'mqtt-packet';

/** Installs the tap in every document of `page`'s context (call before navigating). */
export async function tapMessagePorts(page) {
  await page.addInitScript(() => {
    const ids = new WeakMap();
    let next = 0;
    const idOf = (port) => {
      if (!ids.has(port)) ids.set(port, ++next);
      return ids.get(port);
    };
    const wire = (window.__mqttWire = []);
    const record = (port, dir, data) => {
      if (data instanceof ArrayBuffer) wire.push({ port: idOf(port), dir, bytes: Array.from(new Uint8Array(data)) });
    };
    const post = MessagePort.prototype.postMessage;
    // Copied before posting: the page transfers the buffer, which detaches it.
    MessagePort.prototype.postMessage = function (data, ...rest) {
      record(this, 'out', data);
      return post.call(this, data, ...rest);
    };
    const onmessage = Object.getOwnPropertyDescriptor(MessagePort.prototype, 'onmessage');
    Object.defineProperty(MessagePort.prototype, 'onmessage', {
      configurable: true,
      enumerable: onmessage.enumerable,
      get: onmessage.get,
      set(handler) {
        const port = this;
        onmessage.set.call(
          this,
          typeof handler === 'function'
            ? function (event) {
                record(port, 'in', event.data);
                return handler.call(this, event);
              }
            : handler,
        );
      },
    });
  });
}

/**
 * The protocol level of a CONNECT at the start of `bytes` (4 for 3.1.1, 5), or null: after the
 * fixed header and its variable-length remaining length come the protocol name "MQTT" and
 * the level (MQTT 3.1.1 and 5.0 §3.1.2).
 */
function connectLevel(bytes) {
  if (bytes[0] !== 0x10) return null;
  let at = 1;
  while (bytes[at] & 0x80) at += 1;
  at += 1;
  const nameLength = (bytes[at] << 8) | bytes[at + 1];
  return bytes[at + 2 + nameLength] ?? null;
}

/**
 * Every MQTT packet seen on the page's ports so far, in order, parsed by mqtt-packet: `port` a
 * number per port, `dir` 'out' (page → broker) or 'in', `clientId` from the port's CONNECT;
 * each port's packets are parsed in the version its CONNECT asked for.
 */
export async function readWire(page) {
  const chunks = await page.evaluate(() => window.__mqttWire ?? []);
  const levels = new Map();
  for (const { port, dir, bytes } of chunks) {
    if (dir === 'out' && !levels.has(port)) levels.set(port, connectLevel(bytes) ?? 4);
  }
  const parsers = new Map();
  const clientIds = new Map();
  const packets = [];
  for (const { port, dir, bytes } of chunks) {
    const key = `${port}:${dir}`;
    if (!parsers.has(key)) {
      const parser = mqttPacket.parser({ protocolVersion: levels.get(port) ?? 4 });
      parser.on('packet', (packet) => {
        if (packet.cmd === 'connect') clientIds.set(port, packet.clientId);
        packets.push({ port, dir, packet });
      });
      parser.on('error', (error) => packets.push({ port, dir, error: error.message }));
      parsers.set(key, parser);
    }
    parsers.get(key).parse(Buffer.from(bytes));
  }
  return packets.map((p) => ({ ...p, clientId: clientIds.get(p.port), protocolVersion: levels.get(p.port) ?? 4 }));
}

/** Polls readWire until `predicate(wire)` holds; resolves with the wire. */
export async function waitForWire(page, predicate, { timeout = 20_000, what = 'the wire' } = {}) {
  const deadline = Date.now() + timeout;
  let wire = [];
  while (Date.now() < deadline) {
    wire = await readWire(page);
    if (predicate(wire)) return wire;
    await page.waitForTimeout(100);
  }
  const seen = wire.slice(-20).map((p) => `${p.clientId} ${p.dir} ${p.packet?.cmd ?? p.error} ${p.packet?.topic ?? ''}`);
  throw new Error(`${what} not seen within ${timeout} ms; last packets:\n${seen.join('\n')}`);
}
