/** SimDisk keeps exactly what was made durable, so the crash tests built on it mean something. */
import { describe, expect, it } from 'vitest';
import { rejection } from './segment-log-helpers.js';
import { SimDisk } from './sim-disk.js';

const d = '/d';

async function fresh(options: ConstructorParameters<typeof SimDisk>[0] = {}): Promise<SimDisk> {
  const disk = new SimDisk(options);
  disk.mkdir(d);
  return disk;
}

function powerCycle(disk: SimDisk): void {
  disk.crash();
  disk.reboot();
}

describe('SimDisk', () => {
  it('a crash keeps datasynced bytes and directory-synced names, and nothing else', async () => {
    const disk = await fresh();
    const f = await disk.open(d, 'a', 'create');
    await f.append(new Uint8Array([1, 2]));
    await f.datasync();
    await f.append(new Uint8Array([3]));
    const g = await disk.open(d, 'b', 'create');
    await g.append(new Uint8Array([9]));
    await g.datasync(); // data durable, name not
    await disk.syncDir(d); // now 'a' and 'b' are durable names
    await f.append(new Uint8Array([4]));
    await disk.unlink(d, 'b'); // not durable
    const h = await disk.open(d, 'c', 'create'); // not durable
    await h.datasync();
    powerCycle(disk);
    expect((await disk.list(d)).sort()).toEqual(['a', 'b']);
    expect(Array.from(disk.bytesOf(d, 'a'))).toEqual([1, 2]);
    expect(Array.from(disk.bytesOf(d, 'b'))).toEqual([9]);
  });

  it('an unsynced truncation is undone by a crash; a synced one is kept', async () => {
    const disk = await fresh();
    const f = await disk.open(d, 'a', 'create');
    await f.append(new Uint8Array([1, 2, 3]));
    await f.datasync();
    await disk.syncDir(d);
    await f.truncate(1);
    powerCycle(disk);
    expect(disk.bytesOf(d, 'a').length).toBe(3);
    const g = await disk.open(d, 'a', 'existing');
    await g.truncate(1);
    await g.datasync();
    powerCycle(disk);
    expect(disk.bytesOf(d, 'a').length).toBe(1);
  });

  it('with torn writes, a crash keeps the synced bytes plus a seeded prefix of the rest, the same for the same seed', async () => {
    const lengths: number[] = [];
    for (const seed of [1, 2, 3, 4, 5, 1]) {
      const disk = await fresh({ seed, tornWrites: true });
      const f = await disk.open(d, 'a', 'create');
      await f.append(new Uint8Array(10).fill(1));
      await f.datasync();
      await disk.syncDir(d);
      await f.append(new Uint8Array(100).fill(2));
      powerCycle(disk);
      const bytes = disk.bytesOf(d, 'a');
      expect(bytes.length).toBeGreaterThanOrEqual(10);
      expect(Array.from(bytes.subarray(0, 10))).toEqual(new Array(10).fill(1));
      expect(bytes.subarray(10).every((b) => b === 2)).toBe(true);
      lengths.push(bytes.length);
    }
    expect(lengths[5]).toBe(lengths[0]);
    expect(new Set(lengths).size).toBeGreaterThan(2);
  });

  it('a scheduled crash fires before the next mutation after the count; everything fails until reboot', async () => {
    const disk = await fresh();
    const f = await disk.open(d, 'a', 'create');
    await disk.syncDir(d);
    disk.scheduleCrash(1);
    await f.append(new Uint8Array([1]));
    expect(await rejection(() => f.datasync())).toMatchObject({ code: 'ECRASHED' });
    expect(await rejection(() => disk.list(d))).toMatchObject({ code: 'ECRASHED' });
    disk.reboot();
    expect(disk.bytesOf(d, 'a').length).toBe(0);
    expect(await rejection(() => f.size())).toMatchObject({ code: 'ECRASHED' }); // a handle from before the crash
  });

  it('an injected fault fails the next call of that operation once', async () => {
    const disk = await fresh();
    const f = await disk.open(d, 'a', 'create');
    disk.injectFault('datasync', 'EIO');
    await f.append(new Uint8Array([1]));
    expect(await rejection(() => f.datasync())).toMatchObject({ code: 'EIO' });
    await f.datasync();
  });
});
