import { AggregateCache } from './aggregate-cache';

describe('aggregate cache', () => {
  const aggregate = (text: string) => ({ state: { text }, revision: 1n, position: undefined });

  it('evicts the least recently used entries beyond its byte budget', () => {
    const cache = new AggregateCache(10_000);
    cache.set('a', aggregate('x'.repeat(400)));
    cache.set('b', aggregate('x'.repeat(400)));
    cache.get('a');
    for (let i = 0; i < 20; i++) cache.set(`filler-${i}`, aggregate('x'.repeat(400)));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('filler-19')).toBeDefined();
  });

  it('does not keep states larger than a tenth of its budget', () => {
    const cache = new AggregateCache(10_000);
    cache.set('big', aggregate('x'.repeat(1_000)));
    expect(cache.get('big')).toBeUndefined();
  });
});
