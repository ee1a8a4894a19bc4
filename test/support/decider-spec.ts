/**
 * Given / when / then for deciders: given the events already in a stream, when a command is decided,
 * then these events are recorded, or this error (by its code) is thrown. Used by the unit tests.
 */
import type { Decider } from '../../domain/shared/decider';
import { fold } from '../../domain/shared/decider';
import { DomainError } from '../../domain/shared/errors';

export function given<Command, Event, State>(decider: Decider<Command, Event, State>, ...history: Event[]) {
  return {
    when(command: Command) {
      const decide = () => decider.decide(command, fold(decider, history));
      return {
        then(expected: readonly Event[]): void {
          expect(decide()).toEqual(expected);
        },
        thenNothing(): void {
          expect(decide()).toEqual([]);
        },
        thenFails(code: string): void {
          let thrown: unknown;
          try {
            decide();
          } catch (error) {
            thrown = error;
          }
          expect(thrown).toBeInstanceOf(DomainError);
          expect((thrown as DomainError).code).toBe(code);
        },
      };
    },
  };
}
