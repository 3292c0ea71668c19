/**
 * The fields of one message as a producer sends it. queue.proto EnqueueMessagePb (inside a log
 * entry) and client.proto OutgoingMessage (inside a client's Enqueue) share them, number for
 * number: body = 1, attributes = 2 (map<string, string>), optional delayMs = 3, optional
 * groupId = 4, optional dedupId = 5. One hand-written codec serves both, writing exactly what
 * protobufjs writes (see the tests of queue/codec.ts and client-wire-fast.ts).
 */
import { NotFastPath, type ProtoReader, type ProtoWriter, expectWireType, wireType } from './wire.js';

/** One message's fields, decoded: unset optional fields are absent. */
export interface MessageFields {
  body: Uint8Array;
  attributes?: Record<string, string>;
  delayMs?: number;
  groupId?: string;
  dedupId?: string;
}

/** What writeMessageFields accepts (client objects carry null for unset optional fields). */
export interface MessageFieldsInput {
  readonly body: Uint8Array;
  readonly attributes?: Readonly<Record<string, string>> | undefined;
  readonly delayMs?: number | null | undefined;
  readonly groupId?: string | null | undefined;
  readonly dedupId?: string | null | undefined;
}

/** Writes the fields of `m` (the caller frames them as a sub-message). */
export function writeMessageFields(w: ProtoWriter, m: MessageFieldsInput): void {
  if (m.body.length > 0) w.tag(1, wireType.bytes).bytes(m.body);
  const attrs = m.attributes;
  if (attrs != null) {
    for (const key of Object.keys(attrs)) {
      w.tag(2, wireType.bytes);
      const entry = w.fork();
      w.tag(1, wireType.bytes).string(key).tag(2, wireType.bytes).string(attrs[key]!);
      w.join(entry);
    }
  }
  if (m.delayMs != null) w.tag(3, wireType.fixed64).double(m.delayMs);
  if (m.groupId != null) w.tag(4, wireType.bytes).string(m.groupId);
  if (m.dedupId != null) w.tag(5, wireType.bytes).string(m.dedupId);
}

/**
 * Reads a message's fields from its sub-message reader. `copyBody`: the body is copied (its
 * bytes outlive the input) or a view into the input. An empty attribute map reads as absent.
 * Throws NotFastPath on a known field of another wire type.
 */
export function readMessageFields(r: ProtoReader, copyBody: boolean): MessageFields {
  const out: MessageFields = { body: new Uint8Array(0) };
  let attributes: Record<string, string> | undefined;
  while (!r.done) {
    const tag = r.tag();
    switch (tag >>> 3) {
      case 1:
        expectWireType(tag, wireType.bytes);
        out.body = copyBody ? r.bytesCopy() : r.bytes();
        break;
      case 2: {
        expectWireType(tag, wireType.bytes);
        const e = r.sub();
        let key = '';
        let value = '';
        while (!e.done) {
          const t = e.tag();
          if (t === ((1 << 3) | wireType.bytes)) key = e.string();
          else if (t === ((2 << 3) | wireType.bytes)) value = e.string();
          else if (t >>> 3 === 1 || t >>> 3 === 2) throw new NotFastPath();
          else e.skip(t & 7);
        }
        (attributes ??= {})[key] = value;
        break;
      }
      case 3:
        expectWireType(tag, wireType.fixed64);
        out.delayMs = r.double();
        break;
      case 4:
        expectWireType(tag, wireType.bytes);
        out.groupId = r.string();
        break;
      case 5:
        expectWireType(tag, wireType.bytes);
        out.dedupId = r.string();
        break;
      default:
        r.skip(tag & 7);
    }
  }
  if (attributes !== undefined && Object.keys(attributes).length > 0) out.attributes = attributes;
  return out;
}
