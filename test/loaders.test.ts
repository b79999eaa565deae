import { manyEach, oneEach } from '../lib/loaders';

describe('batch result shaping (DataLoader contract: one result per key, in key order)', () => {
  it('oneEach orders rows by the keys and fills null where no row matched', () => {
    const rows = [{ id: 'b' }, { id: 'a' }];
    expect(oneEach(['a', 'x', 'b', 'a'], rows, (r) => r.id)).toEqual([{ id: 'a' }, null, { id: 'b' }, { id: 'a' }]);
  });

  it('manyEach groups rows under every key they belong to, empty lists for none', () => {
    const births = [
      { child: 'c1', father: 'f', mother: 'm' },
      { child: 'c2', father: 'f', mother: null },
    ];
    const grouped = manyEach(['m', 'f', 'c2', 'z'], births, (b) => [b.child, b.father, b.mother].filter((k): k is string => !!k));
    expect(grouped.map((list) => list.map((b) => b.child))).toEqual([['c1'], ['c1', 'c2'], ['c2'], []]);
  });
});
