import { given } from '../../test/support/decider-spec';
import { versionLabelsDecider, type NameVersion } from './version-labels';

const decider = versionLabelsDecider({ eventType: 'ThingVersionNamed', idKey: 'thingId', tooManyCode: 'THING.TOO_MANY_VERSIONS', noun: 'thing', max: 2 });
const at = '2026-11-22T10:00:00.000Z';
const name = (label: string | null): NameVersion => ({ type: 'NameVersion', aggregateId: 't1', revision: '3', label, actorId: 'ann', at });
const named = (label: string | null) => ({ type: 'ThingVersionNamed' as const, data: { thingId: 't1', revision: '3', label, namedAt: at, namedBy: 'ann' } });

describe('version labels', () => {
  it('names a revision with the aggregate id under its own key', () => {
    given(decider).when(name('draft')).then([named('draft')]);
    given(decider).when(name(null)).then([named(null)]);
  });

  it('refuses more labels than the limit with the aggregate code', () => {
    given(decider, named('a')).when(name('b')).then([named('b')]);
    given(decider, named('a'), named('b')).when(name('c')).thenFails('THING.TOO_MANY_VERSIONS');
  });
});
