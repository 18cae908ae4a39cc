// A broker whose maximum QoS is 1, under MQTT 3.1.1 (whose CONNACK cannot say so): Mosquitto
// 2.0.11 with max_qos 1 closes the connection on our QoS 2 PUBLISH. Our client must not re-send
// it into the same close forever: after the second close it learns the ceiling, sends the
// message at QoS 1, and MQTT.js receives it once.

import assert from 'node:assert/strict';

import { startBroker } from '../lib/broker.mjs';
import { connectPeer } from '../lib/mqtt-peer.mjs';
import { connectOurs } from '../lib/page-client.mjs';

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

export function maxQosScenarios(ctx) {
  ctx.scenario(
    '3.1.1, Mosquitto with max_qos 1: our QoS 2 PUBLISH is closed on twice, then goes at QoS 1 (said as learned and lowered), and MQTT.js receives it once',
    { skip: ctx.kind === 'mosquitto' ? false : 'max_qos is a Mosquitto option' },
    async () => {
      // max_qos is a listener option in 2.0.11: it limits the websockets listener (ours); the
      // TCP one of MQTT.js keeps QoS 2.
      const limited = await startBroker({ settings: { max_qos: 1 } });
      let peer;
      try {
        peer = await connectPeer({ tcpPort: limited.tcpPort, version: 4 });
        const topic = ctx.topic('max-qos/orders');
        assert.equal(await peer.subscribe(topic, 2), 2);
        // No subscription of ours: the broker's closes are the only sign of its ceiling.
        const clientId = ctx.clientId();
        const ours = await connectOurs(ctx.app, limited.wsUrl, { clientId, version: 4, cleanSession: false });
        const outcome = await ours.publish(topic, 'order 1', 2);
        assert.equal(outcome.sent, true);

        const [learned] = await ours.waitFor({ type: 'maximumQosLearned' }, { waitMs: 20_000 });
        assert.equal(learned.maximum, 1);
        assert.equal(
          learned.reason,
          `this broker grants at most QoS 1: it closed the connection twice in a row while a QoS 2 PUBLISH to ${topic} awaited its PUBREC (Mosquitto's max_qos does this to MQTT 3.1.1 clients)`,
        );
        await ours.waitFor({ type: 'qosLowered', packetId: outcome.packetId, asked: 2, sent: 1 });
        await ours.waitFor({ type: 'delivered', packetId: outcome.packetId, topic }, { waitMs: 20_000 });

        const got = await peer.waitFor((m) => m.topic === topic);
        assert.equal(got.payload.toString(), 'order 1');
        assert.equal(got.qos, 1, 'published at QoS 1 in the end');
        await peer.roundTrip();
        assert.equal(peer.on(topic).length, 1, 'MQTT.js received it once');
        // The broker's word: two closes for QoS 2, then the QoS 1 PUBLISH with the same id.
        const log = limited.log();
        const tooHigh = log.match(new RegExp(`Too high QoS in PUBLISH from ${escape(clientId)}`, 'g')) ?? [];
        assert.equal(tooHigh.length, 2, 'closed on twice, no more');
        assert.match(log, new RegExp(`Received PUBLISH from ${escape(clientId)} \\(d1, q1, r0, m${outcome.packetId}, '${escape(topic)}'`));
        assert.equal((await ours.events({ type: 'link', state: 'disconnected' })).length, 2, 'two reconnects, no loop');
        // A new message goes at QoS 1 at once: refused at 2, as under 5.0's Maximum QoS.
        const refused = await ctx.app.page.evaluate(
          ({ name, topic }) => {
            try {
              window.interop.publish(name, topic, 'order 2', 2, false);
              return null;
            } catch (e) {
              return String(e.message ?? e);
            }
          },
          { name: ours.name, topic },
        );
        assert.match(refused ?? '', /up to QoS 1 only/);
      } finally {
        await ctx.cleanUp();
        await peer?.close().catch(() => {});
        await limited.stop();
      }
    },
  );
}
