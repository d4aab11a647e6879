/**
 * Errors are values in the core: every fallible function returns a `Result`.
 * A tiny local type rather than fp-ts `Either` keeps core dependency-free;
 * the shape (`_tag`) matches fp-ts so the engine can convert for free.
 */
export type Result<E, A> = Ok<A> | Err<E>;

export interface Ok<A> {
  readonly _tag: 'Ok';
  readonly value: A;
}

export interface Err<E> {
  readonly _tag: 'Err';
  readonly error: E;
}

export const ok = <A>(value: A): Ok<A> => ({ _tag: 'Ok', value });
export const err = <E>(error: E): Err<E> => ({ _tag: 'Err', error });

export const isOk = <E, A>(r: Result<E, A>): r is Ok<A> => r._tag === 'Ok';
export const isErr = <E, A>(r: Result<E, A>): r is Err<E> => r._tag === 'Err';
