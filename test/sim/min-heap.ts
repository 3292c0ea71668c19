/**
 * A binary min-heap of values keyed by time; ties pop in insertion order, so a simulation is
 * a pure function of its seed.
 */
export class MinHeap<T> {
  #items: Array<{ time: number; seq: number; value: T }> = [];
  #seq = 0;

  push(time: number, value: T): void {
    const items = this.#items;
    items.push({ time, seq: this.#seq++, value });
    let i = items.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.#less(i, p)) break;
      [items[i], items[p]] = [items[p]!, items[i]!];
      i = p;
    }
  }

  pop(): { time: number; value: T } | undefined {
    const items = this.#items;
    const top = items[0];
    if (top === undefined) return undefined;
    const last = items.pop()!;
    if (items.length > 0) {
      items[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < items.length && this.#less(l, m)) m = l;
        if (r < items.length && this.#less(r, m)) m = r;
        if (m === i) break;
        [items[i], items[m]] = [items[m]!, items[i]!];
        i = m;
      }
    }
    return { time: top.time, value: top.value };
  }

  get size(): number {
    return this.#items.length;
  }

  #less(a: number, b: number): boolean {
    const x = this.#items[a]!;
    const y = this.#items[b]!;
    return x.time < y.time || (x.time === y.time && x.seq < y.seq);
  }
}
