/**
 * The whole domain contract. An aggregate is a decider: `decide` turns a command and the current state
 * into the events that record what happened (or throws a domain error), `evolve` folds one event into
 * the state, and `initialState` is the state of a stream with no events. All three are pure: time,
 * ids and anything looked up arrive inside the command.
 */
export interface Decider<Command, Event, State> {
  decide(command: Command, state: State): readonly Event[];
  evolve(state: State, event: Event): State;
  readonly initialState: State;
}

/** Folds a stream's events into its state. */
export function fold<Event, State>(decider: Pick<Decider<unknown, Event, State>, 'evolve' | 'initialState'>, events: readonly Event[]): State {
  return events.reduce(decider.evolve, decider.initialState);
}
