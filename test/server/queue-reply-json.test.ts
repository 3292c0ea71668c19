/**
 * The JSON reply codec (src/server/queue-reply-json.ts, kept for rolling upgrades): replies of
 * this release round-trip, and a reply of a previous-release leader, without the fields added
 * since, decodes with their defaults.
 */
import { describe, expect, it } from 'vitest';
import { queueReplyJsonCodec } from '../../src/server/queue-reply-json.js';
import type { QueueReply } from '../../src/server/queue-reply-types.js';

const enc = new TextEncoder();

describe('JSON queue reply codec', () => {
  it('round-trips a receive with the message metadata, and a redrive with its task', () => {
    const replies: QueueReply[] = [
      {
        ok: true,
        type: 'receive',
        deadLettered: 0,
        messages: [{ id: '9-0', offset: 0, receipt: 'r', receiveCount: 2, enqueuedAtMs: 20, sentAtMs: 10, firstReceivedAtMs: 15, groupId: 'g', dedupId: 'd', attributes: { k: 'v' }, body: Uint8Array.of(1, 2) }],
      },
      { ok: true, type: 'redrive', moved: 3, taskIndex: 42 },
      { ok: true, type: 'tagQueue' },
      { ok: true, type: 'untagQueue' },
    ];
    for (const r of replies) expect(queueReplyJsonCodec.decode(queueReplyJsonCodec.encode(r))).toEqual(r);
  });

  it('fills the defaults of fields a previous-release leader does not send', () => {
    const oldReceive = { ok: true, type: 'receive', deadLettered: 0, messages: [{ id: '9-0', offset: 0, receipt: 'r', receiveCount: 1, enqueuedAtMs: 20, groupId: '', attributes: {}, body: { $b64: 'AQI=' } }] };
    expect(queueReplyJsonCodec.decode(enc.encode(JSON.stringify(oldReceive)))).toEqual({
      ...oldReceive,
      messages: [{ ...oldReceive.messages[0], body: Uint8Array.of(1, 2), sentAtMs: 20, firstReceivedAtMs: 0, dedupId: '' }],
    });
    expect(queueReplyJsonCodec.decode(enc.encode(JSON.stringify({ ok: true, type: 'redrive', moved: 1 })))).toEqual({ ok: true, type: 'redrive', moved: 1, taskIndex: 0 });
  });
});
