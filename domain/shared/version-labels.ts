/**
 * Named versions of an aggregate ("before the rewrite"): labels on its revisions, kept in a stream of
 * their own so that naming a version does not move the aggregate's revision (and so its ETag). One
 * decider shape for every aggregate that has versions (documents, notes): each names its event type, the
 * field that carries its id, and its error code.
 */
import type { Decider } from './decider';
import { conflict } from './errors';
import { unreachable, type DomainEvent } from './events';

export type VersionNamedData<IdKey extends string> = { readonly [K in IdKey]: string } & {
  /** The aggregate's revision the label names, as a decimal string (revisions are 64-bit). */
  readonly revision: string;
  readonly label: string | null;
  readonly namedAt: string;
  readonly namedBy: string;
};

export type VersionNamed<Type extends string, IdKey extends string> = DomainEvent<Type, VersionNamedData<IdKey>>;

export interface VersionLabels {
  readonly count: number;
}

export interface NameVersion {
  readonly type: 'NameVersion';
  readonly aggregateId: string;
  /** The aggregate's current revision, as a decimal string. */
  readonly revision: string;
  readonly label: string | null;
  readonly actorId: string;
  readonly at: string;
}

export interface VersionLabelsSpec<Type extends string, IdKey extends string> {
  readonly eventType: Type;
  readonly idKey: IdKey;
  /** The conflict code when the limit is reached, 'DOCUMENT.TOO_MANY_VERSIONS'. */
  readonly tooManyCode: string;
  /** 'document', 'note': for messages. */
  readonly noun: string;
  readonly max: number;
}

export function versionLabelsDecider<Type extends string, IdKey extends string>(
  spec: VersionLabelsSpec<Type, IdKey>,
): Decider<NameVersion, VersionNamed<Type, IdKey>, VersionLabels> {
  return {
    initialState: { count: 0 },
    decide(command, state) {
      switch (command.type) {
        case 'NameVersion': {
          if (state.count >= spec.max) throw conflict(spec.tooManyCode, `at most ${spec.max} named versions per ${spec.noun}`);
          const data = { [spec.idKey]: command.aggregateId, revision: command.revision, label: command.label, namedAt: command.at, namedBy: command.actorId } as VersionNamedData<IdKey>;
          return [{ type: spec.eventType, data }];
        }
        default:
          return unreachable(command.type);
      }
    },
    evolve(state, event) {
      return event.type === spec.eventType ? { count: state.count + 1 } : state;
    },
  };
}
