// A broker saying no: our client must report it, in words, and carry on.

import assert from 'node:assert/strict';

export function refusalScenarios(ctx, version) {
  const { spec } = ctx;

  if (version === 4) {
    ctx.scenario(
      '3.1.1: a CONNECT the broker refuses (empty client id, clean session off: CONNACK 0x02) is reported in words',
      { skip: spec.rejectsEmptyPersistentId === true ? false : spec.rejectsEmptyPersistentId },
      async () => {
        const ours = await ctx.ours(
          4,
          { clientId: '', cleanSession: false },
          { name: `${ctx.clientId()}-no-id`, waitConnected: false },
        );
        const [lost] = await ours.waitFor({ type: 'lost' });
        assert.equal(
          lost.reason,
          'the broker refused the connection: the broker rejected the client id (return code 2)',
        );
        const [down] = await ours.waitFor({ type: 'link', state: 'disconnected' });
        assert.equal(down.reason, lost.reason, 'the page is told the same reason');
        assert.deepEqual(await ours.events({ type: 'connected' }), []);
      },
    );

    ctx.scenario(
      '3.1.1: a subscription the broker refuses (SUBACK 0x80) is reported as refused',
      { skip: spec.refusesSubscriptions === true ? false : spec.refusesSubscriptions },
      async () => {
        const ours = await ctx.ours(4);
        const filter = spec.deniedFilter(ctx.tag);
        assert.deepEqual(await ours.subscribe(filter, 1), [0x80]);
        const [suback] = await ours.events({ type: 'subscribed', filters: [[filter, 1]] });
        assert.deepEqual(suback.reasons, ['Unspecified error']);
        // Still connected and serving: a subscription it allows works.
        const topic = ctx.topic('after-refusal');
        assert.deepEqual(await ours.subscribe(topic, 1), [1]);
        assert.deepEqual(await ours.events({ type: 'link', state: 'disconnected' }), []);
      },
    );
    return;
  }

  ctx.scenario(
    '5.0 CONNECT to a broker that speaks 3.1.1 only: refused (CONNACK 0x84), and reported in words',
    { skip: spec.v5 ? `${ctx.kind} speaks MQTT 5.0` : false },
    async () => {
      const ours = await ctx.ours(5, {}, { waitConnected: false });
      const [lost] = await ours.waitFor({ type: 'lost' });
      assert.equal(
        lost.reason,
        'the broker refused the connection: Unsupported Protocol Version (0x84)',
      );
      assert.deepEqual(await ours.events({ type: 'connected' }), []);
    },
  );

  ctx.scenario(
    '5.0: a publish the broker refuses (PUBACK 0x87 Not authorized) is reported as publishFailed, and MQTT.js never sees it',
    { skip: spec.v5 ? false : spec.noV5 },
    async () => {
      const topic = spec.readOnlyTopic(ctx.tag);
      const peer = await ctx.peer(5);
      assert.equal(await peer.subscribe(topic, 1), 1);
      const ours = await ctx.ours(5);

      const { packetId } = await ours.publish(topic, 'not allowed here', 1);
      const [failed] = await ours.waitFor({ type: 'publishFailed', packetId });
      assert.equal(failed.topic, topic);
      assert.match(failed.reason, /Not authorized \(0x87\)/);
      assert.deepEqual(await ours.events({ type: 'delivered', packetId }), []);
      await peer.roundTrip();
      assert.deepEqual(peer.on(topic), []);
    },
  );
}
