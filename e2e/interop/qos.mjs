// QoS 0, 1 and 2 both ways: what one side sends, the other receives exactly, once, with the
// handshake of its QoS on our side of the wire.

import assert from 'node:assert/strict';

/** The publish flow's packets (not SUBSCRIBE, PINGREQ …), as [direction, kind]. */
const PUBLISH_FLOW = ['PUBLISH', 'PUBACK', 'PUBREC', 'PUBREL', 'PUBCOMP'];

/** Our packets of the message `packetId` (a QoS 0 PUBLISH has none: `null`). */
async function flow(ours, packetId) {
  const packets = await ours.events({ type: 'packet', packetId });
  return packets.filter((p) => PUBLISH_FLOW.includes(p.kind)).map((p) => [p.direction, p.kind]);
}

const SENT_FLOW = {
  0: [['out', 'PUBLISH']],
  1: [
    ['out', 'PUBLISH'],
    ['in', 'PUBACK'],
  ],
  2: [
    ['out', 'PUBLISH'],
    ['in', 'PUBREC'],
    ['out', 'PUBREL'],
    ['in', 'PUBCOMP'],
  ],
};

const RECEIVED_FLOW = {
  0: [['in', 'PUBLISH']],
  1: [
    ['in', 'PUBLISH'],
    ['out', 'PUBACK'],
  ],
  2: [
    ['in', 'PUBLISH'],
    ['out', 'PUBREC'],
    ['in', 'PUBREL'],
    ['out', 'PUBCOMP'],
  ],
};

/** "PUBLISH → PUBACK ←" for a flow (→ from us to the broker). */
const names = (flow) =>
  flow.map(([direction, kind]) => `${kind} ${direction === 'out' ? '→' : '←'}`).join(', ');

/** Bytes that are not UTF-8 text, then some that are: the payload must pass untouched. */
const payloadFor = (label) =>
  Buffer.concat([Buffer.from([0x00, 0xff, 0x80, 0x0a]), Buffer.from(label)]);

export function qosScenarios(ctx, version, options) {
  for (const qos of [0, 1, 2]) {
    ctx.scenario(
      `QoS ${qos}, us → MQTT.js: it receives exactly what we sent, once; our trace: ${names(SENT_FLOW[qos])}`,
      options,
      async () => {
        // Not ASCII: the topic is UTF-8 on the wire, too.
        const topic = ctx.topic(`to-peer/q${qos}/zoë-✓`);
        const peer = await ctx.peer(version);
        assert.equal(await peer.subscribe(topic, 2), 2);
        const ours = await ctx.ours(version);
        const payload = payloadFor(`QoS ${qos} from us ✓`);

        const outcome = await ours.publish(topic, payload, qos);
        assert.equal(outcome.sent, true);
        assert.equal(outcome.packetId === null, qos === 0, 'a packet id exactly for QoS 1 and 2');
        const got = await peer.waitFor((m) => m.topic === topic);
        assert.deepEqual(got.payload, payload);
        assert.equal(got.qos, qos);
        assert.equal(got.retain, false);
        assert.equal(got.dup, false);

        if (qos > 0) await ours.waitFor({ type: 'delivered', packetId: outcome.packetId, topic });
        await peer.roundTrip();
        assert.equal(peer.on(topic).length, 1, 'MQTT.js received it once');
        assert.deepEqual(await flow(ours, outcome.packetId), SENT_FLOW[qos]);
        const [sent] = await ours.events({ type: 'packet', direction: 'out', kind: 'PUBLISH' });
        assert.deepEqual(
          { topic: sent.topic, qos: sent.qos, dup: sent.dup, retain: sent.retain },
          { topic, qos, dup: false, retain: false },
        );
      },
    );
  }

  for (const qos of [0, 1, 2]) {
    ctx.scenario(
      `QoS ${qos}, MQTT.js → us: we receive exactly what it sent, once; our trace: ${names(RECEIVED_FLOW[qos])}` +
        (qos > 0 ? ', and the broker logs our acknowledgement' : ''),
      options,
      async () => {
        const base = ctx.topic(`to-us/q${qos}/zoë-✓`);
        const ours = await ctx.ours(version);
        assert.deepEqual(await ours.subscribe(`${base}/#`, 2), [2]);
        const peer = await ctx.peer(version);
        const payload = payloadFor(`QoS ${qos} from MQTT.js ✓`);

        await peer.publish(`${base}/m`, payload, { qos });
        // Same publisher, same QoS: once this is here, anything sent before it is too.
        await peer.publish(`${base}/end`, 'end', { qos });
        await ours.waitFor({ type: 'message', topic: `${base}/end` });
        const got = await ours.events({ type: 'message', topic: `${base}/m` });
        assert.equal(got.length, 1, 'we received it once');
        const [m] = got;
        assert.equal(m.payloadHex, payload.toString('hex'));
        assert.deepEqual(
          { qos: m.qos, retain: m.retain, dup: m.dup },
          { qos, retain: false, dup: false },
        );
        if (qos === 0) {
          assert.equal(m.packetId, null);
          return;
        }
        const last = qos === 1 ? 'PUBACK' : 'PUBCOMP';
        await ours.waitFor({ type: 'packet', direction: 'out', kind: last, packetId: m.packetId });
        assert.deepEqual(await flow(ours, m.packetId), RECEIVED_FLOW[qos]);
        // The broker's own word that our acknowledgements arrived and closed the exchange.
        await ctx.broker.waitForLog(ctx.spec.acked(ours.name, qos, m.packetId));
      },
    );
  }
}
